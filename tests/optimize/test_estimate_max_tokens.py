"""The estimate before a real search prices no reply longer than its node's `max_tokens`: it priced every completion
at the task family's profile (512 tokens for math), so on real SmolLM2 with roles of `max_tokens` 96-128 it said
3-5x what the search paid. Checked by hand: prompt tokens x price_in + min(profile, max_tokens) x price_out, and a
prompt grows by each predecessor's capped reply. The FLOPs accounting keeps the profile's lengths. A prompt is what
the node sends (`test_run_cost_prompts`): here, with no items told, the family profile's assumed 64-token question."""

from __future__ import annotations

import pytest

from rolegraph.agents.registry import RoleRegistry
from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.pool import ModelPool
from rolegraph.models.timings import LatencyRates
from rolegraph.models.tokens import text_tokens
from rolegraph.optimize.estimate import estimate_search
from rolegraph.optimize.run_cost import run_cost
from rolegraph.optimize.space import SearchSpace

from .helpers import tiny_config

PRICE_IN, PRICE_OUT = 1.0, 4.0  # dollars per million tokens
PROFILE_OUT = 512  # the math family's reply length (`MATH_PROFILE`), written out
QUESTION = 64  # the question the math profile assumes (`PROFILE_QUESTION_TOKENS`): no items are told here
TEMPLATE, FRAME = 14, 4  # the chat template's tokens; "Question:" and its line end
BRIEF_SYSTEM = text_tokens(f"Role: brief.\nAnswer in one line.\n{{question}}\n\n{RoleRegistry().answer_format('math')}")
SOLVER_SYSTEM = text_tokens(RoleRegistry.default().system_prompt("solver", "math"))
PROMPT = TEMPLATE + BRIEF_SYSTEM + FRAME + QUESTION  # a brief node's whole prompt
BRIEF = 96  # the small role's max_tokens
RATES = LatencyRates(overhead_s=0.5, s_per_prompt_token=0.001, s_per_output_token=0.02, calls=10)
CONCURRENCY = 2


def _space(roles: tuple[str, ...], max_nodes: int) -> SearchSpace:
    registry = RoleRegistry.default()
    registry.register("brief", "Answer in one line.\n{question}", answers=True, max_tokens=BRIEF)
    model = ModelSpec(id="my/model", backend="openai", base_url="http://127.0.0.1:9/v1", price_in=PRICE_IN,
                      price_out=PRICE_OUT, params_b=1.24, layers=16, hidden=2048, max_concurrency=CONCURRENCY)
    space = SearchSpace(pool=ModelPool([model]), models=("my/model",), roles=roles, max_nodes=max_nodes, budget=None,
                        registry=registry)
    space.latency_rates = {"my/model": RATES}
    return space


def test_every_call_of_a_small_max_tokens_role_is_priced_at_its_cap():
    """One-node graphs of a 96-token role: every item run is one call of 256 prompt and 96 completion tokens."""
    space = _space(("brief",), max_nodes=1)
    estimate = estimate_search(space, tiny_config(iterations=2), {"train": 20, "validation": 10, "test": 10})
    runs = estimate.item_runs
    assert runs == 68  # search 2x2x4, re-check 8, test 6, single model 6, routing 16 x 2: by the plan's rules
    per_run_dollars = (PROMPT * PRICE_IN + BRIEF * PRICE_OUT) / 1e6  # (PROMPT + 384)e-6, not (256 + 512 x 4)e-6
    assert estimate.typical.calls == runs
    assert estimate.typical.tokens == runs * (PROMPT + BRIEF)
    assert estimate.typical.dollars == pytest.approx(runs * per_run_dollars)
    seconds = 0.5 + 0.001 * PROMPT + 0.02 * BRIEF  # about 2.6 s a call, not 0.5 + 0.256 + 10.24
    assert estimate.typical.seconds["my/model"] == pytest.approx(runs * seconds)
    assert estimate.wall_seconds(estimate.typical) == pytest.approx(runs * seconds / CONCURRENCY)
    assert f"dollars ~${runs * per_run_dollars:.3g}" in "\n".join(estimate.lines())


def test_a_prompt_reads_its_predecessors_capped_replies_and_a_node_param_caps_its_own():
    """brief -> solver -> out: the solver's prompt holds brief's 96 tokens; its own reply is the profile's 512 (its
    role allows 1,024); the output node's params cap it at 64, and its prompt holds the solver's 512 (and brief's)."""
    space = _space(("brief", "solver"), max_nodes=3)
    graph = GraphSpec(
        name="chain",
        nodes=[
            NodeSpec(id="a", role="brief", model="my/model"),
            NodeSpec(id="b", role="solver", model="my/model"),
            NodeSpec(id="out", role="solver", model="my/model", params={"max_tokens": 64}),
        ],
        edges=[("a", "b"), ("b", "out"), ("a", "out")],
        output="out",
    )
    unmeasured: set[str] = set()
    cost = run_cost(space, graph, unmeasured)
    one = text_tokens("Question:\n\n\nInputs from 1 predecessor(s):\n\n=== Input 1 from node `a` (brief) ===\n\n")
    two = text_tokens("Question:\n\n\nInputs from 2 predecessor(s):\n\n=== Input 1 from node `b` (solver) ===\n\n"
                      "\n=== Input 2 from node `a` (brief) ===\n\n")
    solver = TEMPLATE + SOLVER_SYSTEM + QUESTION
    calls = [(PROMPT, BRIEF), (solver + one + BRIEF, PROFILE_OUT), (solver + two + PROFILE_OUT + BRIEF, 64)]
    assert cost.calls == 3 and not unmeasured
    assert cost.tokens == sum(p + c for p, c in calls)
    assert cost.dollars == pytest.approx(sum(p * PRICE_IN + c * PRICE_OUT for p, c in calls) / 1e6)
    assert cost.seconds["my/model"] == pytest.approx(sum(0.5 + 0.001 * p + 0.02 * c for p, c in calls))
    # the FLOPs accounting (the sim's and the search's) still counts every node at the profile's 512 tokens
    assert space.dollars(graph) == pytest.approx(
        ((256 + 512 * 4) + ((256 + 512) + 512 * 4) + ((256 + 2 * 512) + 512 * 4)) / 1e6
    )
