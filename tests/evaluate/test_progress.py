"""The progress bar appears on a terminal only; the callback hook always fires."""
from __future__ import annotations

import io
import sys

from rolegraph.evaluate.progress import ItemProgress, wants_progress


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_progress_follows_stderr(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert wants_progress(None) is False
    monkeypatch.setattr(sys, "stderr", FakeTTY())
    assert wants_progress(None) is True
    assert wants_progress(False) is False  # --json forces it off even on a terminal


def test_bar_draws_on_a_terminal_and_calls_back(monkeypatch):
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
