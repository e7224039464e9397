"""A run's FLOPs units are those of the nodes that ran (`run_assembly.ran`): a run stopped by its budget or by a
failure counts what it spent, a complete run exactly what `validate` estimates (bit for bit)."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rolegraph.agents.registry import RoleRegistry
from rolegraph.errors import BudgetExceededError, NodeFailedError
from rolegraph.graphs.analysis import MATH_PROFILE, node_flops_units, summary
from rolegraph.graphs.budget import Budget
from rolegraph.graphs.io import load_graph
from rolegraph.graphs.runtime import run_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

EXAMPLES = Path(__file__).parents[2] / "examples" / "graphs"
ONE_B, THREE_B, EIGHT_B = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"
ITEM = Item(id="t1", question="What is 4 + 5?", gold="9", family="math")


def hub(tmp_path) -> ModelHub:
    return ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False))


def run(spec, h, **kw):
    return asyncio.run(run_graph(spec, ITEM, h, **kw))


@pytest.mark.parametrize("name", ["vote5.yaml", "mixed.yaml", "single.yaml"])
def test_a_complete_run_reports_validates_figure_bit_for_bit(tmp_path, name):
    spec = load_graph(EXAMPLES / name)
    res = run(spec, hub(tmp_path))
    assert res.error is None and all(n.calls for n in res.nodes)
    expected = summary(spec, ModelPool.builtin(), MATH_PROFILE).flops_units  # what `validate` prints
    assert expected and res.flops_units == expected  # equal, not approximately


def test_a_run_stopped_by_its_budget_counts_only_the_nodes_that_ran(tmp_path):
    spec = load_graph(EXAMPLES / "vote5.yaml")
    with pytest.raises(BudgetExceededError, match="before node 'fuse'") as info:
        run(spec, hub(tmp_path), budget=Budget(max_tokens=3000))
    partial = info.value.partial
    ran = [n.id for n in partial.nodes if n.calls]
    assert ran == ["s1", "s2", "s3", "s4", "s5"] and partial.node("fuse").calls == 0
    per_node = node_flops_units(spec, ModelPool.builtin(), MATH_PROFILE)
    assert partial.flops_units == pytest.approx(sum(per_node[n] for n in ran))
    whole = summary(spec, ModelPool.builtin(), MATH_PROFILE).flops_units
    assert whole is not None and partial.flops_units < whole - per_node["fuse"] / 2  # the 8B fuser left out


def test_a_node_failing_on_its_first_call_spent_nothing(tmp_path):
    spec = GraphSpec.model_validate({"nodes": [{"id": "a", "role": "solver", "model": ONE_B}], "edges": []})
    h = hub(tmp_path)

    class Refused:
        model_id = ONE_B

        async def complete(self, messages, **kw):
            raise ConnectionError("connection refused")

    h.use(ONE_B, Refused())
    with pytest.raises(NodeFailedError) as info:
        run(spec, h)
    partial = info.value.partial
    assert partial.node("a").error and partial.node("a").calls == 0
    assert partial.flops_units == 0.0  # not the 1.0 unit of a 1B node that never answered


def test_a_node_that_made_a_call_and_then_failed_counts(tmp_path):
    roles = RoleRegistry.default()

    def broken(text, kind):
        raise ValueError("cannot parse the reply")

    roles.register("breaker", "Answer.\n{answer_format}", parser=broken)
    spec = GraphSpec.model_validate(
        {
            "nodes": [
                {"id": "a", "role": "solver", "model": ONE_B},
                {"id": "b", "role": "breaker", "model": THREE_B},
                {"id": "f", "role": "fuser", "model": EIGHT_B},
            ],
            "edges": [["a", "b"], ["b", "f"]],
        }
    )
    with pytest.raises(NodeFailedError, match="node 'b'") as info:
        run(spec, hub(tmp_path), roles=roles)
    partial = info.value.partial
    assert partial.node("b").calls == 1 and partial.node("b").error  # its call was paid for
    per_node = node_flops_units(spec, ModelPool.builtin(), MATH_PROFILE)
    assert partial.flops_units == pytest.approx(per_node["a"] + per_node["b"])  # not the fuser that never ran



def test_a_loop_stopped_by_its_budget_counts_the_rounds_that_ran(tmp_path):
    spec = load_graph(EXAMPLES / "revise.yaml")
    with pytest.raises(BudgetExceededError, match="before node 'verify'") as info:
        run(spec, hub(tmp_path), budget=Budget(max_tokens=1300))  # room for the first solver's call only
    partial = info.value.partial
    assert [(n.id, n.calls) for n in partial.nodes] == [("solve@1", 1), ("verify@1", 0)]
    alone = summary(load_graph(EXAMPLES / "single.yaml"), ModelPool.builtin(), MATH_PROFILE).flops_units
    assert partial.flops_units == pytest.approx(alone)  # one 3B solver: the refused 8B verifier spent nothing


def test_a_run_answered_from_the_response_cache_counts_like_a_fresh_one(tmp_path):
    spec = load_graph(EXAMPLES / "vote5.yaml")
    h = ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=True))
    fresh = run(spec, h)
    again = run(spec, ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=True)))
    assert sum(n.cached_calls for n in fresh.nodes) == 0
    assert all(n.cached_calls == n.calls == 1 for n in again.nodes)
    assert again.flops_units == fresh.flops_units  # the paper's units of the graph's work, not this machine's
