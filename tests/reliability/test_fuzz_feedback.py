"""Fuzzed feedback-agent replies: invalid JSON, probabilities out of range, unknown node ids, edges
that would make a cycle, proposed graphs over budget. Every reply is either accepted (and then the
updated probabilistic graph is still a distribution that samples valid graphs) or rejected with its
problems; a step whose replies are all rejected falls back to the statistical agent and says so, and
a whole search driven by such an agent still finishes.
"""
from __future__ import annotations

import asyncio
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from rolegraph.graphs.validate import validate_graph
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.chat.types import Completion
from rolegraph.optimize.agent_reinforce import AgentReinforce
from rolegraph.optimize.api import optimize_async
from rolegraph.optimize.feedback import InitContext, StepContext, apply_update
from rolegraph.optimize.llm_agent import LLMFeedbackAgent, parse_reply
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.settings import Settings

from .conftest import examples
from .searching import SIM_MODELS, space_for, tiny_config

FUZZ = settings(max_examples=examples(120), deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SPACE = space_for(ModelPool.builtin(), SIM_MODELS)
NODE_IDS = ["n0", "n1", "n2", "out", "n9", "N0", "", "out ", "\u202eout"]
MODEL_IDS = [*SIM_MODELS, "sim/llama-3.1-70b", "gpt-9", ""]
ROLES = ["solver", "verifier", "fuser", "planner", "wizard", ""]
probs = st.one_of(st.floats(0, 1), st.floats(-2, 3), st.sampled_from([math.nan, math.inf, -math.inf, 1e308]),
                  st.sampled_from(["0.5", None, True, [0.5]]))
node_ids = st.sampled_from(NODE_IDS)
junk = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
                    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner,
                                                                                          max_size=3)), max_leaves=6)
update = st.fixed_dictionaries({}, optional={
    "presence": st.dictionaries(node_ids, probs, max_size=3),
    "models": st.dictionaries(node_ids, st.dictionaries(st.sampled_from(MODEL_IDS), probs, max_size=3), max_size=3),
    "roles": st.dictionaries(node_ids, st.dictionaries(st.sampled_from(ROLES), probs, max_size=3), max_size=3),
    "edges": st.lists(st.fixed_dictionaries({"src": node_ids, "dst": node_ids, "prob": probs}), max_size=4),
    "proposed_graph": st.fixed_dictionaries({
        "nodes": st.lists(st.fixed_dictionaries({"id": node_ids, "role": st.sampled_from(ROLES),
                                                 "model": st.sampled_from(MODEL_IDS)}), max_size=4),
        "edges": st.lists(st.tuples(node_ids, node_ids).map(list), max_size=4)}),
    "extra": junk})
replies = st.fixed_dictionaries({"gradient": st.one_of(st.fixed_dictionaries(
    {"helped": st.lists(st.text(max_size=8), max_size=2), "hurt": st.lists(st.text(max_size=8), max_size=2),
     "summary": st.text(max_size=20)}), junk), "update": st.one_of(update, junk)})


def _render(reply, wrap: str) -> str:
    text = json.dumps(reply, allow_nan=True)
    if wrap == "fenced":
        return f"Here is my update:\n```json\n{text}\n```\nThanks."
    if wrap == "cut":
        return text[: max(1, len(text) // 2)]
    if wrap == "trailing":
        return text + "\n}}] and more"
    return text


def _assert_distribution(pg: ProbabilisticGraph) -> None:
    for arr in pg.probs().arrays():
        assert np.all(np.isfinite(arr)) and np.all(arr >= 0) and np.all(arr <= 1)
    p = pg.probs()
    for rows in (p.models, p.roles):
        assert np.allclose(np.sum(rows, axis=-1), 1.0)
    assert np.isclose(p.out_model.sum(), 1.0) and np.isclose(p.out_role.sum(), 1.0)


@FUZZ
@given(reply=replies, wrap=st.sampled_from(["plain", "fenced", "cut", "trailing"]), step=st.floats(0.05, 1.0),
       seed=st.integers(0, 1000))
def test_a_reply_is_accepted_into_a_valid_distribution_or_rejected_with_reasons(reply, wrap, step, seed):
    pg = ProbabilisticGraph(SPACE)
    parsed, problems = parse_reply(_render(reply, wrap), pg)
    if parsed is None:
        assert problems and all(isinstance(p, str) and p and "\n" not in p for p in problems)
        return
    assert problems == []
    new = apply_update(pg, parsed.update, step)
    _assert_distribution(new)
    spec = new.sample(np.random.default_rng(seed))
    assert validate_graph(spec, SPACE.pool) == [] and SPACE.fits(spec)


@pytest.mark.parametrize("update, needle", [
    ({"presence": {"n0": 1.5}}, "less than or equal to 1"),
    ({"models": {"n0": {SIM_MODELS[0]: -0.2}}}, "greater than or equal to 0"),
    ({"edges": [{"src": "out", "dst": "n0", "prob": 0.9}]}, "cycle"),
    ({"edges": [{"src": "n1", "dst": "n1", "prob": 0.9}]}, "cycle"),
    ({"edges": [{"src": "n7", "dst": "out", "prob": 0.9}]}, "unknown node id"),
    ({"models": {"n0": {"gpt-9": 0.9}}}, "unknown model"),
    ({"roles": {"out": {"planner": 0.9}}}, "unknown role"),
    ({"models": {"n0": {SIM_MODELS[0]: 0.8, SIM_MODELS[1]: 0.8}}}, "sum to"),
    ({"proposed_graph": {"nodes": [{"id": "n0", "role": "solver", "model": SIM_MODELS[0]},
                                   {"id": "out", "role": "fuser", "model": SIM_MODELS[0]}],
                         "edges": [["n0", "out"], ["out", "n0"]]}}, "cycle"),
    ({"proposed_graph": {"nodes": [{"id": f"n{i}", "role": "solver", "model": SIM_MODELS[2]} for i in range(3)]
                         + [{"id": "out", "role": "fuser", "model": SIM_MODELS[2]}],
                         "edges": [[f"n{i}", "out"] for i in range(3)]}}, "budget"),
])
def test_each_kind_of_bad_update_is_named(update, needle):
    text = json.dumps({"gradient": {"summary": "x"}, "update": update})
    parsed, problems = parse_reply(text, ProbabilisticGraph(SPACE))
    assert parsed is None and any(needle in p for p in problems), problems


@pytest.mark.parametrize("text", ["", "no json here", "{", "{\"gradient\": }", "[1, 2]", "null", "```json\n```",
                                  json.dumps({"gradient": {}, "update": {"presence": {"n0": float("nan")}}})])
def test_invalid_json_is_rejected(text):
    parsed, problems = parse_reply(text, ProbabilisticGraph(SPACE))
    assert parsed is None and problems


class Junk:
    """A feedback model that only ever writes `texts`, in turn (a bad or a broken LLM)."""

    def __init__(self, texts: list[str]):
        self.texts, self.calls = texts, 0

    @property
    def model_id(self) -> str:
        return "junk/model"

    async def complete(self, messages, **kwargs) -> Completion:
        self.calls += 1
        return Completion(text=self.texts[(self.calls - 1) % len(self.texts)], model_id=self.model_id)


BAD_TEXTS = ["I think n0 should be bigger.", '{"gradient": {}, "update": {"presence": {"n0": 7}}}',
             '{"gradient": {}, "update": {"edges": [{"src": "out", "dst": "n0", "prob": 1}]}}',
             '{"gradient": {}, "update": {"models": {"n42": {"x": 1}}}}']


def test_a_step_with_only_bad_replies_falls_back_and_says_why():
    pg = ProbabilisticGraph(SPACE)
    model = Junk(BAD_TEXTS)
    agent = LLMFeedbackAgent(model, max_retries=3)
    ctx = StepContext(space=SPACE, pg=pg, iteration=1, evaluations=[], best_graph=None, best_objective=None,
                      best_n=0, task="gsm")
    fb = asyncio.run(agent.step(ctx))
    assert model.calls == 4 and fb.attempts == 4
    assert fb.agent.endswith("(fallback)") and fb.fallback and "junk/model" in fb.fallback
    assert "\n" not in fb.fallback
    init = asyncio.run(agent.initial(InitContext(space=SPACE, pg=pg, pilot=[], task="gsm")))
    assert init.agent.endswith("(fallback)")


def test_a_search_driven_by_a_broken_feedback_agent_finishes_on_the_fallback(tmp_path):
    from rolegraph.tasks.registry import get_task

    gsm = get_task("gsm", size=80)
    hub = ModelHub(ModelPool.builtin(), Settings(home=tmp_path / "home"))

    async def main():
        try:
            return await optimize_async(gsm, SPACE, AgentReinforce(LLMFeedbackAgent(Junk(BAD_TEXTS), max_retries=1),
                                                                   pilot_batch=4),
                                        hub=hub, config=tiny_config(compare_singles=False))
        finally:
            await hub.aclose()

    result = asyncio.run(main())
    assert result.trace.feedback and all(f.fallback and f.agent.endswith("(fallback)") for f in result.trace.feedback)
    assert all(f.attempts == 2 for f in result.trace.feedback)
    assert validate_graph(result.best_graph, SPACE.pool) == [] and SPACE.fits(result.best_graph)
