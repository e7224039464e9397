"""Web search falls back to local search when the web fails, and says so."""
from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from rolegraph.tools import web_search
from rolegraph.tools.local_search import MAX_K, LocalSearch, SearchTool
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


def test_web_hits_keep_the_engine_order_best_first(monkeypatch):
    """SearchHit.score is higher-is-better: the engine's first result gets the highest score."""
    rows = [{"title": f"r{i}", "body": f"body {i}", "href": f"https://x/{i}"} for i in range(3)]
    monkeypatch.setattr(web_search, "_ddgs_text", lambda *args: rows)
    hits, note = asyncio.run(WebSearch(fallback=None, timeout_s=5).asearch("anything", 3))
    assert note is None and [h.title for h in hits] == ["r0", "r1", "r2"]
    assert hits[0].score > hits[1].score > hits[2].score
    assert (hits[0].text, hits[0].url) == ("body 0", "https://x/0")


def test_an_empty_web_answer_falls_back_to_local_search_and_says_why(monkeypatch):
    """No web results is a failure like any other (an engine answering nothing to everything is blocked or
    changed): the local corpus answers and the note says so."""
    monkeypatch.setattr(web_search, "_ddgs_text", lambda *args: [])
    web = WebSearch(fallback=LocalSearch.from_documents(CORPUS), timeout_s=5)
    hits, note = asyncio.run(web.asearch("penicillin"))
    assert [h.title for h in hits] == ["Alexander Fleming"]
    assert note == "web search failed (WebSearchError: no results)" + FALLBACK_NOTE


def test_k_is_capped_for_the_engine_and_passed_on_to_the_fallback(monkeypatch):
    asked = []
    monkeypatch.setattr(web_search, "_ddgs_text", lambda query, k, *rest: asked.append(k) or [])
    web = WebSearch(fallback=LocalSearch.from_documents(CORPUS), timeout_s=5)
    asyncio.run(web.asearch("penicillin", MAX_K + 50))
    assert asked == [MAX_K]
    hits, _ = asyncio.run(web.asearch("penicillin bread", 1))  # both corpus documents match; k=1 keeps one
    assert len(hits) == 1
