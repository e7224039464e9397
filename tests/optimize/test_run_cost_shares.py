"""`run_cost`'s caps and shares, worked by hand: each call's reply at min(profile, the node's max_tokens), each prompt
at its role's system prompt, the question, the user message's headings and the chat template plus every
predecessor's capped reply once, dollars at prompt x price_in + reply x price_out per million, and the simulated
models' calls, tokens and dollars apart (the real endpoints' part is what is paid)."""

from __future__ import annotations

import pytest

from rolegraph.agents.registry import RoleRegistry
from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.pool import ModelPool
from rolegraph.models.tokens import text_tokens
from rolegraph.optimize.run_cost import Prompts, capped_tokens, run_cost
from rolegraph.optimize.space import SearchSpace

REAL, SIM = "my/real", "sim/mine"
SYSTEM = {"brief": 20, "solver": 100}  # each role's system prompt tokens
QUESTION, REPLY = 30, 300  # the question's tokens; the reply before any cap (the family profile's)
PROMPTS = Prompts(SYSTEM, QUESTION, REPLY)
TEMPLATE = 14  # the chat template's tokens around the two messages


def _frame(*inputs: tuple[str, str]) -> int:
    """The user message's tokens less the question and the inputs' texts: "Question:" and each input's heading."""
    text = "Question:\n\n"
    if inputs:
        text += f"\nInputs from {len(inputs)} predecessor(s):\n"
        text += "".join(f"\n=== Input {i} from node `{n}` ({r}) ===\n\n" for i, (n, r) in enumerate(inputs, 1))
    return text_tokens(text)


def _prompt(role: str, *inputs: tuple[str, str]) -> int:
    """A node's prompt before its inputs' replies: template, its role's system prompt, headings and question."""
    return TEMPLATE + SYSTEM[role] + _frame(*inputs) + QUESTION


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
    assert _prompt("brief") == 14 + 20 + 4 + 30  # "Question:" is 2 + 1 tokens, its line end 1
    expected = {"a": (_prompt("brief"), 50), "out": (_prompt("solver", ("a", "brief")) + 50, 120)}
    assert capped_tokens(GRAPH, PROMPTS, caps) == expected


def test_a_role_without_a_cap_in_caps_is_capped_at_the_call_default():
    """Neither params nor caps: the call default (512) is above the profile's 300, so 300 it is."""
    assert capped_tokens(GRAPH, PROMPTS, {})["a"] == (_prompt("brief"), 300)


def test_the_simulated_models_share_is_kept_apart():
    cost = run_cost(_space(), GRAPH, set(), PROMPTS)
    sim_prompt, real_prompt = _prompt("brief"), _prompt("solver", ("a", "brief")) + 50
    sim_dollars = (sim_prompt * 2.0 + 50 * 8.0) / 1e6
    real_dollars = (real_prompt * 1.0 + 120 * 4.0) / 1e6
    assert (cost.calls, cost.sim_calls) == (2, 1)
    assert (cost.tokens, cost.sim_tokens) == (sim_prompt + 50 + real_prompt + 120, sim_prompt + 50)
    assert cost.dollars == pytest.approx(sim_dollars + real_dollars)
    assert cost.sim_dollars == pytest.approx(sim_dollars)
    calls, tokens, dollars = cost.real()
    assert (calls, tokens) == (1, real_prompt + 120) and dollars == pytest.approx(real_dollars)


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
    cost = run_cost(_space(), graph, set(), PROMPTS)
    copy = _prompt("solver", ("plan", "brief")) + 50
    out = _prompt("solver", ("search[1]", "solver"), ("search[2]", "solver")) + 120 + 120
    calls = [(_prompt("brief"), 50), (copy, 120), (copy, 120), (out, 40)]
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
    assert capped_tokens(graph, PROMPTS, {"brief": 50}) == {"a": (_prompt("brief"), 50),
                                                             "out": (_prompt("brief", ("a", "brief")) + 50, 50)}
