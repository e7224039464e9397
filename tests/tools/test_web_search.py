"""Web search falls back to local search when the web fails, and says so."""
from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from rolegraph.tools import web_search
from rolegraph.tools.local_search import LocalSearch, SearchTool
from rolegraph.tools.web_search import WebSearch, WebSearchError

CORPUS = [{"title": "Alexander Fleming", "text": "Fleming discovered penicillin in 1928."},
          {"title": "Bread", "text": "Bread is baked."}]
FALLBACK_NOTE = "; fell back to local search"
HANG_S = 30


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_web_falls_back_to_local_and_the_note_says_so():
    web = WebSearch(fallback=LocalSearch.from_documents(CORPUS), timeout_s=5,
                    proxy=f"http://127.0.0.1:{_closed_port()}")  # a proxy nobody listens on: a real failure
    out = asyncio.run(SearchTool(web).call(query="who discovered penicillin"))
    assert out.ok and out.data[0].title == "Alexander Fleming"
    assert out.note.startswith("web search failed (") and out.note.endswith(FALLBACK_NOTE)


def test_default_web_here_either_answers_or_falls_back_with_a_note():
    web = WebSearch(fallback=LocalSearch.from_documents(CORPUS), timeout_s=5)
    hits, note = asyncio.run(web.asearch("who discovered penicillin", 3))
    assert hits
    if note is not None:  # offline (as in CI): the fallback is reported, never silent
        assert note.endswith(FALLBACK_NOTE) and hits[0].title == "Alexander Fleming"


def test_a_hanging_engine_is_cut_off_by_the_timeout(monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(web_search, "_ddgs_text", lambda *args: release.wait(HANG_S))
    web = WebSearch(fallback=LocalSearch.from_documents(CORPUS), timeout_s=0.2)

    async def search():
        try:
            return await web.asearch("penicillin")
        finally:
            release.set()  # let the abandoned worker thread finish

    hits, note = asyncio.run(search())
    assert note == "web search failed (timed out)" + FALLBACK_NOTE and hits


def test_without_fallback_the_failure_is_a_failed_tool_result():
    web = WebSearch(fallback=None, timeout_s=5, proxy=f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(WebSearchError, match="no local fallback"):
        asyncio.run(web.asearch("penicillin"))
    out = asyncio.run(SearchTool(web).call(query="penicillin"))
    assert not out.ok and "no local fallback" in out.text
