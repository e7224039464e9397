"""An evaluation whose evidence was trimmed to a node's context window keeps that count in the results store:
`rolegraph results` counted it from node rows that do not hold the trimmed tokens, and said 0. On the sim pool
with a small `context_window`, as tests/graphs/test_trim_trace.py runs it."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from rolegraph.cli.eval_output import count_notes, trimmed_items
from rolegraph.evaluate.runner import evaluate
from rolegraph.evaluate.store import ResultsStore
from rolegraph.tasks.registry import get_task
from tests.graphs.test_trim_trace import SMALL, _graph, _hub, _toolbox

QUESTIONS = ["Who discovered penicillin?", "Which physician found penicillin in London?",
             "Penicillin mould: who described it first?"]


def _evaluate(tmp_path, window, store: ResultsStore):
    tmp_path.mkdir(parents=True, exist_ok=True)
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps({"id": f"q{i}", "question": q, "answer": "Alexander Fleming"}) + "\n"
                            for i, q in enumerate(QUESTIONS)))
    task = get_task("jsonl", data=data, family="qa")
    return asyncio.run(evaluate(_graph(), task, task.items("all"), hub=_hub(tmp_path, window), toolbox=_toolbox(),
                                progress=False, store=store))


def test_the_store_keeps_how_many_items_had_their_evidence_trimmed(tmp_path):
    path = tmp_path / "r.sqlite"
    with ResultsStore(path) as store:
        with pytest.warns(UserWarning, match="evidence was trimmed"):
            cut = _evaluate(tmp_path, SMALL, store)
        whole = _evaluate(tmp_path / "whole", None, store)
        back, back_whole = store.load(cut.run_id), store.load(whole.run_id)
        listed = {r["id"]: r for r in store.runs()}
    assert cut.trimmed_items == len(QUESTIONS) and cut.summary()["trimmed_items"] == len(QUESTIONS)
    assert back.trimmed_items == trimmed_items(back) == len(QUESTIONS)  # read back: 0 before
    assert all(u.trimmed_evidence_tokens == 0 for it in back.items for u in it.node_usage.values())  # not per node
    assert listed[cut.run_id]["trimmed_items"] == len(QUESTIONS)
    assert whole.trimmed_items == back_whole.trimmed_items == listed[whole.run_id]["trimmed_items"] == 0
    assert "trimmed_items" not in listed[whole.run_id]["settings"]  # nothing said where nothing was trimmed
    notes = count_notes(back, "two_searchers")
    assert notes == [f"note: graph 'two_searchers': on {len(QUESTIONS)} of {len(QUESTIONS)} items a node was sent "
                     "fewer search hits than its searchers found, to fit its model's context window (a model with a "
                     "larger context_window reads them all)"]
    assert count_notes(back_whole, "two_searchers") == []
    env = os.environ | {"ROLEGRAPH_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    shown = subprocess.run([sys.executable, "-m", "rolegraph", "results", cut.run_id, "--store", str(path)], env=env,
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert notes[0] in " ".join(shown.stdout.split())
