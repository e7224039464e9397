"""Warm starts carry evidence only from comparable runs: the same data by content and the same simulator world.
A run records its files' hashes; runs from before that record still resume and warm-start."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.rundir import INPUTS_KEY, STORE_NAME, RunStore
from rolegraph.optimize.warmstart import WARM_AGENT, WarmStart
from rolegraph.tasks.registry import get_task

from .helpers import run, tiny_space

ITEMS = 60
OTHER_WORLD = 2


def write_gsm8k(path: Path, shift: int = 3) -> Path:
    rows = [{"question": f"What is {i} plus {shift}?", "answer": f"{i} + {shift} = {i + shift}\n#### {i + shift}"}
            for i in range(ITEMS)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def warm_note(result):
    return next(f for f in result.trace.feedback if f.agent == WARM_AGENT)


@pytest.fixture
def data_run(pool, tmp_path):
    """A tiny search on a data file: (data path, its task_args, the run directory)."""
    data = write_gsm8k(tmp_path / "d.jsonl")
    args = {"name": "gsm8k", "data": str(data), "seed": 0}
    run(pool, tmp_path / "home", get_task("gsm8k", data=data), "random", out=tmp_path / "a", task_args=args)
    return data, args, tmp_path / "a"


def test_evidence_from_a_data_file_that_changed_is_not_imported(pool, tmp_path, data_run):
    data, args, first = data_run
    assert WarmStart.load(first).same_task(args)
    write_gsm8k(data, shift=4)  # same path, other items
    warm = WarmStart.load(first)
    assert not warm.same_task(args) and "changed since the earlier run read it" in (warm.not_comparable or "")
    again = run(pool, tmp_path / "home", get_task("gsm8k", data=data), "random", out=tmp_path / "b",
                init_from=first, task_args=args)
    assert not any(r.phase == "prior" for r in again.trace.records)
    assert any(f"the data file {data.resolve()} changed" in h and "not imported" in h for h in warm_note(again).hurt)
    write_gsm8k(tmp_path / "copy.jsonl")  # the items the earlier run scored, under another path: the same data
    assert WarmStart.load(first).same_task({**args, "data": str(tmp_path / "copy.jsonl")})


def test_a_run_refuses_to_go_on_when_its_data_file_changed(tmp_path, data_run):
    data, _, first = data_run
    store = RunStore.open(first)
    try:
        assert store.config()["task_args"]["data"] == str(data)
        write_gsm8k(data, shift=4)
        with pytest.raises(SearchError, match="changed since the run read it"):
            store.config()
        assert store.config(check_inputs=False)["task_args"]["data"] == str(data)  # a warm start only compares
    finally:
        store.close()


def test_a_run_from_before_hashes_were_kept_resumes_and_warm_starts_on_its_path(tmp_path, data_run):
    data, args, first = data_run
    db = sqlite3.connect(first / STORE_NAME)
    db.execute("DELETE FROM meta WHERE key = ?", (INPUTS_KEY,))
    db.commit()
    db.close()
    write_gsm8k(data, shift=4)  # unknown: nothing recorded to compare with
    store = RunStore.open(first)
    try:
        assert store.inputs() is None and store.config()["task_args"]["data"] == str(data)
    finally:
        store.close()
    warm = WarmStart.load(first)
    assert warm.same_task(args) and any("kept no hash" in n for n in warm.notes)
    assert not WarmStart.load(first).same_task({**args, "data": str(tmp_path / "other.jsonl")})


def test_evidence_from_another_world_is_not_imported(pool, small_task, tmp_path):
    other = pool.in_world(OTHER_WORLD)
    run(other, tmp_path / "home", small_task, "random", space=tiny_space(other), out=tmp_path / "w2")
    here = run(pool, tmp_path / "home", small_task, "random", out=tmp_path / "w0", init_from=tmp_path / "w2")
    assert not any(r.phase == "prior" for r in here.trace.records)
    note = warm_note(here)
    assert "0 evaluations" in note.summary
    assert any(f"another world (world {OTHER_WORLD}; this search: world 0)" in h for h in note.hurt)
    same = run(other, tmp_path / "home", small_task, "random", space=tiny_space(other), out=tmp_path / "w2b",
               init_from=tmp_path / "w2")
    assert any(r.phase == "prior" for r in same.trace.records)
    assert not any("world" in h for h in warm_note(same).hurt)
