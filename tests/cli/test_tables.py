"""`stdout_console`: tables printed into a pipe or a file come out whole, not cut to 80 columns."""
from __future__ import annotations

from rich.table import Table

from rolegraph.cli.tables import stdout_console

LONG_ID = "org/" + "m" * 140


def _table() -> Table:
    table = Table()
    table.add_column("id")
    table.add_column("note")
    table.add_row(LONG_ID, "a note")
    return table


def test_a_wide_table_widens_a_console_that_is_not_a_terminal(capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    table = _table()
    console = stdout_console(table)
    assert not console.is_terminal and console.width >= len(LONG_ID) + len("a note")
    console.print(table)
    assert LONG_ID in capsys.readouterr().out


def test_a_narrow_table_keeps_the_usual_width(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    small = Table()
    small.add_column("a")
    small.add_row("b")
    assert stdout_console(small).width == stdout_console().width
