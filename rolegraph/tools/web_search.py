"""Web search through `ddgs`, with a timeout, falling back to local search when the web fails.

The fallback is never silent: the returned note (which `SearchTool` puts on the ToolResult, and the
trace records) says that the web failed, why, and that local results were used instead.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from rolegraph.tools.base import one_line
from rolegraph.tools.local_search import DEFAULT_K, MAX_K, LocalSearch, SearchHit

DEFAULT_WEB_TIMEOUT_S = 10.0
REASON_CHARS = 160


class WebSearchError(RuntimeError):
    """The web search failed and there is no fallback; the tool turns it into ok=False."""


def _ddgs_text(query: str, k: int, timeout_s: float, proxy: str | None) -> list[dict[str, Any]]:
    from ddgs import DDGS

    return DDGS(proxy=proxy, timeout=max(1, math.ceil(timeout_s))).text(query, max_results=k)


class WebSearch:
    """A `SearchBackend`: DuckDuckGo & co. via ddgs; on any failure, `fallback` (if given)."""

    def __init__(
        self, fallback: LocalSearch | None = None, timeout_s: float = DEFAULT_WEB_TIMEOUT_S, proxy: str | None = None
    ):
        self.fallback = fallback
        self.timeout_s = timeout_s
        self.proxy = proxy  # e.g. "socks5h://127.0.0.1:9150"; None: ddgs's default (env DDGS_PROXY)

    async def _web(self, query: str, k: int) -> list[SearchHit]:
        rows = await asyncio.wait_for(
            asyncio.to_thread(_ddgs_text, query, k, self.timeout_s, self.proxy), self.timeout_s
        )
        hits = [
            SearchHit(
                title=str(r.get("title") or ""),
                text=str(r.get("body") or ""),
                url=r.get("href"),
                score=float(len(rows) - i),
            )
            for i, r in enumerate(rows or [])
        ]
        if not hits:
            raise WebSearchError("no results")
        return hits

    async def asearch(self, query: str, k: int = DEFAULT_K) -> tuple[list[SearchHit], str | None]:
        k = max(1, min(int(k), MAX_K))
        try:
            return await self._web(query, k), None
        except Exception as exc:  # offline, DNS, rate limit, timeout, engine changes: all the same to us
            reason = (
                "timed out"
                if isinstance(exc, asyncio.TimeoutError)
                else one_line(f"{type(exc).__name__}: {exc}", REASON_CHARS)
            )
        if self.fallback is None:
            raise WebSearchError(f"web search failed ({reason}) and no local fallback is configured")
        hits, _ = await self.fallback.asearch(query, k)
        return hits, f"web search failed ({reason}); fell back to local search"
