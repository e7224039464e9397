"""`run_cost`'s caps and shares, worked by hand: each call's reply at min(profile, the node's max_tokens), each prompt
at the profile plus every predecessor's capped reply once, dollars at prompt x price_in + reply x price_out per
million, and the simulated models' calls, tokens and dollars apart (the real endpoints' part is what is paid)."""

from __future__ import annotations

import pytest

from rolegraph.agents.registry import RoleRegistry
from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.analysis import TokenProfile
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.run_cost import capped_tokens, run_cost
from rolegraph.optimize.space import SearchSpace

REAL, SIM = "my/real", "sim/mine"
PROFILE = TokenProfile(prompt_tokens=200, output_tokens=300)


def _space() -> SearchSpace:
    registry = RoleRegistry.default()
    registry.register("brief", "Answer in one line.\n{question}", answers=True, max_tokens=50)
    real = ModelSpec(
        id=REAL,
        backend="openai",
        base_url="http://127.0.0.1:9/v1",
        price_in=1.0,
        price_out=4.0,
        params_b=1.0,
        layers=16,
        hidden=2048,
    )
    sim = ModelSpec(id=SIM, backend="sim", price_in=2.0, price_out=8.0, params_b=1.0, layers=16, hidden=2048)
    return SearchSpace(
        pool=ModelPool([real, sim]),
        models=(REAL, SIM),
        roles=("brief", "solver"),
        max_nodes=3,
        budget=None,
        registry=registry,
    )


GRAPH = GraphSpec(
    name="g",
    nodes=[
        NodeSpec(id="a", role="brief", model=SIM),  # reply capped by its role at 50
        NodeSpec(id="out", role="solver", model=REAL, params={"max_tokens": 120}),  # capped by its params at 120
    ],
    edges=[("a", "out")],
    output="out",
)


def test_each_calls_tokens_are_capped_and_the_prompt_grows_by_the_predecessors_reply():
    caps = {"brief": 50, "solver": 1024}
    assert capped_tokens(GRAPH, PROFILE, caps) == {"a": (200, 50), "out": (200 + 50, 120)}


def test_a_role_without_a_cap_in_caps_is_capped_at_the_call_default():
    """Neither params nor caps: the call default (512) is above the profile's 300, so 300 it is."""
    assert capped_tokens(GRAPH, PROFILE, {})["a"] == (200, 300)


def test_the_simulated_models_share_is_kept_apart():
    cost = run_cost(_space(), GRAPH, set(), profile=PROFILE)
    sim_dollars = (200 * 2.0 + 50 * 8.0) / 1e6
    real_dollars = (250 * 1.0 + 120 * 4.0) / 1e6
    assert (cost.calls, cost.sim_calls) == (2, 1)
    assert (cost.tokens, cost.sim_tokens) == (250 + 370, 250)
    assert cost.dollars == pytest.approx(sim_dollars + real_dollars)
    assert cost.sim_dollars == pytest.approx(sim_dollars)
    calls, tokens, dollars = cost.real()
    assert (calls, tokens) == (1, 370) and dollars == pytest.approx(real_dollars)


def test_a_dynamic_graphs_tokens_are_its_largest_runs():
    """plan -> search (fanned out to at most 2 copies) -> out: the largest run has both copies, each reading plan's
    capped reply, and out reading both copies' capped replies."""
    graph = GraphSpec.model_validate(
        {
            "name": "fan",
            "nodes": [
                {"id": "plan", "role": "brief", "model": REAL},
                {"id": "search", "role": "solver", "model": REAL, "params": {"max_tokens": 120}},
                {"id": "out", "role": "solver", "model": REAL, "params": {"max_tokens": 40}},
            ],
            "edges": [["plan", "search"], ["search", "out"]],
            "fanout": [{"from": "plan", "nodes": ["search"], "max_fanout": 2}],
        }
    )
    cost = run_cost(_space(), graph, set(), profile=PROFILE)
    calls = [(200, 50), (250, 120), (250, 120), (200 + 120 + 120, 40)]
    assert cost.tokens == sum(p + c for p, c in calls)  # 1,470
    assert cost.dollars == pytest.approx(sum(p * 1.0 + c * 4.0 for p, c in calls) / 1e6)
    assert cost.sim_tokens == 0


def test_an_edge_written_twice_is_read_once():
    """A graph file may list an edge twice; the node still reads that predecessor's output once."""
    graph = GraphSpec(
        name="twice",
        nodes=[NodeSpec(id="a", role="brief", model=REAL), NodeSpec(id="out", role="brief", model=REAL)],
        edges=[("a", "out"), ("a", "out")],
        output="out",
    )
    assert capped_tokens(graph, PROFILE, {"brief": 50}) == {"a": (200, 50), "out": (250, 50)}
