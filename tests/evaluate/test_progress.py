"""The progress bar appears on a terminal only (one that can redraw in place: not TERM=dumb); the callback
hook always fires."""
from __future__ import annotations

import io
import sys

import pytest
from rich.console import Console

from rolegraph.evaluate.progress import ItemProgress, wants_progress


@pytest.fixture
def term(monkeypatch):
    """term(name): set $TERM for the test (and drop rich's $TTY_INTERACTIVE override)."""
    monkeypatch.delenv("TTY_INTERACTIVE", raising=False)
    return lambda name: monkeypatch.setenv("TERM", name)


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_progress_follows_stderr(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert wants_progress(None) is False
    monkeypatch.setattr(sys, "stderr", FakeTTY())
    assert wants_progress(None) is True
    assert wants_progress(False) is False  # --json forces it off even on a terminal


def test_bar_draws_on_a_terminal_and_calls_back(monkeypatch, term):
    term("xterm-256color")
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    seen = []
    with ItemProgress(3, "g on gsm", show=True, on_item=lambda d, t: seen.append((d, t))) as bar:
        for done in (1, 2, 3):
            bar.advance(done)
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert "g on gsm" in tty.getvalue()


def test_no_bar_when_hidden(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", out)
    with ItemProgress(2, "g", show=False) as bar:
        bar.advance(1)
    assert out.getvalue() == ""


def _run(console: Console | None) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    where = {"console": console} if console is not None else {}  # None: the default, stderr's
    with ItemProgress(3, "g on gsm", show=True, on_item=lambda d, t: seen.append((d, t)), **where) as bar:
        for done in (1, 2, 3):
            bar.advance(done)
    return seen


@pytest.mark.parametrize("name", ["dumb", "unknown"])
def test_a_dumb_terminal_gets_no_bar_and_no_blank_lines(name, term):
    term(name)
    out = io.StringIO()
    seen = _run(Console(file=out, force_terminal=True, width=80))
    assert out.getvalue() == ""  # rich alone left "\n" where the bar would have been, one per evaluation
    assert seen == [(1, 3), (2, 3), (3, 3)]  # the hook still fires


def test_the_same_console_on_a_capable_terminal_draws_the_bar(term):
    term("xterm-256color")
    out = io.StringIO()
    _run(Console(file=out, force_terminal=True, width=80))
    assert "g on gsm" in out.getvalue()


def test_stderr_on_a_dumb_terminal_gets_nothing(monkeypatch, term):
    term("dumb")
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    _run(None)
    assert tty.getvalue() == ""
