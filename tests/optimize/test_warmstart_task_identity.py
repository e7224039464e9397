"""A search started from Python with no `task_args` records what identifies its task (seed, options, data file,
and a digest of the items), so a warm start from a run on other items of the same task name imports nothing,
and a resume rebuilds the same task."""
from __future__ import annotations

import asyncio
import json

from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.optimize.api import make_optimizer, optimize_async
from rolegraph.optimize.rebuild import rebuild
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.task_identity import items_digest, task_args_of
from rolegraph.optimize.warmstart import WARM_AGENT
from rolegraph.settings import Settings
from rolegraph.tasks.base import Task
from rolegraph.tasks.qa_metrics import exact_match
from rolegraph.tasks.registry import get_task

from .helpers import tiny_config, tiny_space

SIZE = 80


def search(pool, tmp_path, task, out, init_from=None):
    """A tiny search the way a Python caller starts one: a built task and no task_args."""

    async def main():
        hub = ModelHub(pool, Settings(home=tmp_path / "home"))
        try:
            return await optimize_async(task, tiny_space(pool, family=task.family), make_optimizer("random"),
                                        hub=hub, config=tiny_config(), out=out, init_from=init_from)
        finally:
            await hub.aclose()

    return asyncio.run(main())


def stored_config(run_dir):
    store = RunStore.open(run_dir)
    try:
        return store.config()
    finally:
        store.close()


def not_carried(result) -> list[str]:
    return next(f for f in result.trace.feedback if f.agent == WARM_AGENT).hurt


def test_the_task_args_read_from_a_task_name_its_seed_options_and_data(tmp_path):
    assert task_args_of(get_task("gsm", size=SIZE, seed=5)) == {"name": "gsm", "seed": 5, "size": SIZE}
    assert task_args_of(get_task("gsm")) == {"name": "gsm", "seed": 0}  # size at its default: as the CLI records
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"{i} + 1?", "target": str(i + 1)}) + "\n" for i in range(4)))
    task = get_task("jsonl", data=data, question_field="prompt", answer_field="target", family="qa", metric="f1")
    assert task_args_of(task) == {"name": "jsonl", "seed": 0, "data": str(data.resolve()), "question_field": "prompt",
                                  "answer_field": "target", "family": "qa", "metric": "f1"}
    assert items_digest(get_task("gsm", size=SIZE)) == items_digest(get_task("gsm", size=SIZE))
    assert items_digest(get_task("gsm", size=SIZE)) != items_digest(get_task("gsm", size=SIZE, seed=5))


def test_a_warm_start_from_python_refuses_evidence_of_another_seed(pool, tmp_path):
    search(pool, tmp_path, get_task("gsm", size=SIZE), tmp_path / "a")
    cfg = stored_config(tmp_path / "a")
    assert cfg["task_args"] == {"name": "gsm", "seed": 0, "size": SIZE}
    other = search(pool, tmp_path, get_task("gsm", size=SIZE, seed=5), tmp_path / "b", init_from=tmp_path / "a")
    assert not any(r.phase == "prior" for r in other.trace.records)
    said = "the same task with other options (seed 0 -> 5): its evidence is not imported"
    assert any(said in h for h in not_carried(other)), not_carried(other)
    same = search(pool, tmp_path, get_task("gsm", size=SIZE), tmp_path / "c", init_from=tmp_path / "a")
    assert any(r.phase == "prior" for r in same.trace.records)
    assert not any("not imported" in h for h in not_carried(same))


def test_a_resume_of_a_python_run_rebuilds_its_seed(pool, tmp_path):
    search(pool, tmp_path, get_task("gsm", size=SIZE, seed=5), tmp_path / "a")
    _, task, *_ = rebuild(tmp_path / "a", Settings(home=tmp_path / "home"))
    assert task.all_items()[0].id.startswith("gsm/5/") and len(task.all_items()) == SIZE


class Capitals(Task):
    """A task of the caller's own (not in the registry): only its items can tell two of them apart."""

    name, family, answer_kind = "capitals", "qa", "qa"

    def __init__(self, rows):
        self.rows = rows

    def all_items(self):
        return [Item(id=f"c{i}", question=f"What is the capital of {q}?", gold=a, family="qa")
                for i, (q, a) in enumerate(self.rows)]

    def score(self, prediction, item):
        return exact_match(prediction, item.gold)


ROWS = [("France", "Paris"), ("Japan", "Tokyo"), ("Italy", "Rome"), ("Spain", "Madrid")] * 5


def test_a_task_of_ones_own_is_told_apart_by_its_items(pool, tmp_path):
    search(pool, tmp_path, Capitals(ROWS), tmp_path / "a")
    assert stored_config(tmp_path / "a")["task_args"] == {"name": "capitals", "seed": 0}
    other = search(pool, tmp_path, Capitals([(q, a.upper()) for q, a in ROWS]), tmp_path / "b",
                   init_from=tmp_path / "a")
    assert not any(r.phase == "prior" for r in other.trace.records)
    assert any("the earlier run scored other items of task 'capitals'" in h for h in not_carried(other))
    same = search(pool, tmp_path, Capitals(ROWS), tmp_path / "c", init_from=tmp_path / "a")
    assert any(r.phase == "prior" for r in same.trace.records)
