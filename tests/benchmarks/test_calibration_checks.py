"""The calibration's known-tension rows (a fuser over samples of its own model against their plurality) are
what the runtime gives: the same graph through `evaluate`, its plurality taken by the runtime's own rule."""
from __future__ import annotations

import asyncio
from statistics import mean

import pytest

from benchmarks import calibration_checks as checks
from benchmarks.simexec import SimExecutor
from benchmarks.synthetic import SyntheticTask, synthetic_items
from rolegraph.evaluate.runner import evaluate
from rolegraph.graphs.signals import answer_form, plurality_voter
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

ITEMS = 40


def test_the_fuser_tension_rows_equal_the_runtime(tmp_path):
    rows = checks.tension_cells(SimExecutor(Settings(home=tmp_path / "a", cache=False)), ITEMS)
    assert [r["source"] for r in rows] == ["fuse", "fuse"]
    items = synthetic_items("math", ITEMS, seed=checks.ITEM_SEED + 3)
    task = SyntheticTask("math", ITEMS, seed=checks.ITEM_SEED + 3)
    for row, model in zip(rows, ("sim/llama-3.2-3b", "sim/llama-3.1-8b")):
        voters = [f"s{i}" for i in range(checks.FUSED_SAMPLES)]
        spec = GraphSpec(name="fused", nodes=[NodeSpec(id=v, role="solver", model=model,
                                                       params={"temperature": checks.VOTE_TEMPERATURE}) for v in voters]
                         + [NodeSpec(id="out", role="fuser", model=model)], edges=[(v, "out") for v in voters])

        async def go():
            hub = ModelHub(ModelPool.builtin(), Settings(home=tmp_path / "b", cache=False))
            try:
                return await evaluate(spec, task, items, hub=hub, progress=False)
            finally:
                await hub.aclose()

        res = asyncio.run(go())
        plural = []
        for it, item in zip(res.items, items):
            voter = plurality_voter([(v, it.node_answers.get(v)) for v in voters])
            plural.append(voter is not None and answer_form(it.node_answers[voter]) == answer_form(item.gold))
        assert row["sim"] == pytest.approx(res.accuracy)
        assert row["reference"] == pytest.approx(mean(plural))
        assert row["within"] == (abs(row["sim"] - row["reference"]) <= 0.02)
