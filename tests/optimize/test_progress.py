"""The search's progress line draws on a terminal that can redraw in place, and prints nothing on a dumb one
(TERM=dumb), where rich would leave a blank line behind."""
from __future__ import annotations

import io

import pytest
from rich.console import Console

from rolegraph.optimize.progress import SearchProgress


def _search(console: Console) -> str:
    out = console.file
    bar = SearchProgress(True, 3, "cem on gsm8k", console=console)
    for i, best in enumerate((0.5, 0.6, 0.7), start=1):
        bar.update(i, i * 10, best)
    bar.close()
    return out.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("term, drawn", [("dumb", False), ("unknown", False), ("xterm-256color", True)])
def test_the_line_draws_only_where_it_can_redraw(term, drawn, monkeypatch):
    monkeypatch.delenv("TTY_INTERACTIVE", raising=False)
    monkeypatch.setenv("TERM", term)
    text = _search(Console(file=io.StringIO(), force_terminal=True, width=100))
    assert ("cem on gsm8k" in text) is drawn
    if not drawn:
        assert text == ""  # not even the blank line rich leaves where a bar would have been


def test_a_hidden_line_prints_nothing(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    out = io.StringIO()
    bar = SearchProgress(False, 3, "cem", console=Console(file=out, force_terminal=True))
    bar.update(1, 1, None)
    bar.close()
    assert out.getvalue() == ""
