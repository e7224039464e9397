"""Every command's --help reads whole on an 80-column terminal: no option's help or default is cut to `…`."""
from __future__ import annotations

import pytest
import typer

from rolegraph.cli import build_app, main

TERMINAL_COLUMNS = "80"
CUT_MARK = "…"


def _command_paths() -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []

    def walk(command, prefix: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", None)
        if prefix:
            paths.append(prefix)
        for name, sub in sorted((subcommands or {}).items()):
            walk(sub, (*prefix, name))

    walk(typer.main.get_command(build_app()), ())
    return paths


def test_every_command_is_walked():
    names = {" ".join(path) for path in _command_paths()}
    assert {"optimize", "demo", "serve-sim", "eval", "route fit"} <= names


@pytest.mark.parametrize("path", _command_paths(), ids=" ".join)
def test_help_is_not_cut_at_80_columns(path, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", TERMINAL_COLUMNS)
    try:
        main([*path, "--help"])
    except SystemExit as exc:  # a group's help may exit; a command's returns
        assert exc.code in (0, None)
    out = capsys.readouterr().out
    assert "Usage:" in out
    cut = [line for line in out.splitlines() if CUT_MARK in line]
    assert not cut, "\n".join(cut)
