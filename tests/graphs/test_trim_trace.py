"""A node whose searchers' evidence was trimmed to its model's context window says so in its trace
(`trimmed_evidence_tokens`, `trimmed_hits`), and from there where a user looks: `rolegraph run`'s notes and
`--json`, `eval`'s count of such items. On the sim pool, one model given a small window (its pool entry's)."""
from __future__ import annotations

import asyncio
import json

import pytest

from rolegraph.cli.eval_output import trimmed_items
from rolegraph.cli.run_output import run_json, trim_notes
from rolegraph.evaluate.runner import evaluate
from rolegraph.graphs.runtime import run_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task
from rolegraph.tools.local_search import LocalSearch, SearchTool
from rolegraph.tools.toolbox import ToolBox

S3, S8 = "sim/llama-3.2-3b", "sim/llama-3.1-8b"
SMALL = 1500  # tokens: a solver's prompt and max_tokens, but not two searchers' six long hits each
WORDS = "penicillin mould Fleming laboratory London Scotland physician bacteria culture discovery".split()
DOCS = [{"title": f"Penicillin {i}", "text": "Penicillin " + " ".join(WORDS[(i + j) % len(WORDS)] for j in range(110))}
        for i in range(8)]


def _graph() -> GraphSpec:
    return GraphSpec.model_validate({
        "name": "two_searchers", "output": "answer",
        "nodes": [{"id": "s1", "role": "searcher", "model": S3}, {"id": "s2", "role": "searcher", "model": S3},
                  {"id": "answer", "role": "solver", "model": S8, "params": {"max_tokens": 128}}],
        "edges": [["s1", "answer"], ["s2", "answer"]]})


def _hub(tmp_path, window: int | None) -> ModelHub:
    pool = ModelPool.builtin()
    if window is not None:
        pool = ModelPool([s.model_copy(update={"context_window": window}) if s.id == S8 else s for s in pool])
    return ModelHub(pool, Settings(home=tmp_path, cache=False))


def _toolbox() -> ToolBox:
    return ToolBox([SearchTool(LocalSearch.from_documents(DOCS))])


def _run(tmp_path, window):
    item = Item(id="p1", question="Who discovered penicillin?", gold="Alexander Fleming", family="qa")
    return asyncio.run(run_graph(_graph(), item, _hub(tmp_path, window), toolbox=_toolbox()))


def test_the_trace_run_output_and_json_say_what_was_trimmed(tmp_path):
    with pytest.warns(UserWarning, match="context window of 1500 tokens"):
        result = _run(tmp_path, SMALL)
    nodes = {n.id: n for n in result.nodes}
    assert nodes["answer"].trimmed_evidence_tokens > 0 and nodes["answer"].trimmed_hits > 0
    assert nodes["s1"].trimmed_evidence_tokens == nodes["s2"].trimmed_evidence_tokens == 0
    whole = {n.id: n for n in _run(tmp_path / "whole", None).nodes}
    assert nodes["answer"].tokens_in < whole["answer"].tokens_in  # it was sent less than without the window
    lines = trim_notes(result.nodes)
    assert len(lines) == 1 and lines[0].startswith(f"note: node answer: evidence trimmed to fit {S8}'s context window")
    out = {n["id"]: n for n in run_json(result)["nodes"]}
    assert out["answer"]["trimmed_hits"] == nodes["answer"].trimmed_hits and out["s1"]["trimmed_evidence_tokens"] == 0


def test_an_untrimmed_run_records_nothing(tmp_path):
    result = _run(tmp_path, None)  # the sim's 131,072 tokens: all fits
    assert all(n.trimmed_evidence_tokens == 0 for n in result.nodes) and trim_notes(result.nodes) == []


def test_eval_counts_the_items_whose_evidence_was_trimmed(tmp_path):
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps({"id": f"q{i}", "question": q, "answer": "Alexander Fleming"}) + "\n" for i, q in
                            enumerate(["Who discovered penicillin?", "Which physician found penicillin in London?",
                                       "Penicillin mould: who described it first?"])))
    task = get_task("jsonl", data=data, family="qa")
    items = task.items("all")
    with pytest.warns(UserWarning, match="evidence was trimmed"):
        result = asyncio.run(evaluate(_graph(), task, items, hub=_hub(tmp_path, SMALL), toolbox=_toolbox(),
                                      progress=False))
    assert result.n == 3 and trimmed_items(result) == 3
