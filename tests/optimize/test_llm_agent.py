"""Agent-REINFORCE with the LLM feedback agent in a whole (tiny) search: valid replies are used, an
invalid step falls back to the statistical agent and the trace and report say so."""
import asyncio

import pytest

from rolegraph.models.hub import ModelHub
from rolegraph.chat.types import Completion
from rolegraph.optimize.api import make_optimizer, optimize_async
from rolegraph.settings import Settings

from .helpers import tiny_config, tiny_space

AGENT_ID = "openai/gpt-4o-mini"  # a real model's pool id, served here by a scripted stand-in
VALID = ('{"gradient": {"helped": ["3B solvers"], "hurt": ["1B output"], "summary": "prefer 3B"}, '
         '"update": {"models": {"out": {"sim/llama-3.2-3b": 0.8}}, "presence": {"n0": 0.9}}}')


class ScriptedAgentModel:
    """Valid on calls 1 and 5+, garbage on calls 2-4 (so step 1 exhausts its retries)."""

    def __init__(self):
        self.calls = 0

    @property
    def model_id(self) -> str:
        return AGENT_ID

    async def complete(self, messages, **kwargs):
        self.calls += 1
        text = "more nodes!" if 2 <= self.calls <= 4 else VALID
        return Completion(text=text, model_id=AGENT_ID)


def test_llm_feedback_in_a_search_with_a_fallback_step(pool, small_task, tmp_path):
    async def main():
        hub = ModelHub(pool, Settings(home=tmp_path / "home"))
        scripted = ScriptedAgentModel()
        hub.use(AGENT_ID, scripted)
        try:
            opt = make_optimizer("agent-reinforce", hub=hub, agent_model=AGENT_ID)
            # the default agent's pilot (a graph per model and a mix, 2 graphs an iteration, then the 2 mixes of the
            # best two) is iterations 1-3: its feedback is logged as iteration 0, then one step after 4 and after 5
            result = await optimize_async(small_task, tiny_space(pool), opt, hub=hub, config=tiny_config(iterations=5),
                                          out=tmp_path / "run", agent_model=AGENT_ID)
        finally:
            await hub.aclose()
        return result, scripted

    result, scripted = asyncio.run(main())
    fb = {f.iteration: f for f in result.trace.feedback}
    assert fb[0].agent == f"llm:{AGENT_ID}" and fb[0].summary == "prefer 3B" and fb[0].fallback is None
    assert sorted(fb) == [0, 4, 5]
    assert fb[4].agent == "statistical (fallback)" and "3 attempts" in fb[4].fallback and fb[4].attempts == 3
    assert fb[5].agent == f"llm:{AGENT_ID}"
    assert scripted.calls == 5
    usage = result.feedback_agent
    assert (usage.requested, usage.steps, usage.llm_steps, usage.fallback_steps) == (f"llm:{AGENT_ID}", 3, 2, 1)
    assert usage.fallback_reasons == {"invalid": 1} and fb[4].fallback_reason == "invalid"
    assert usage.headline() == f"llm:{AGENT_ID} (2 of 3 steps; 1 fell back: invalid)"
    assert usage.warning() is None
    from rolegraph.reports import render

    report = render(tmp_path / "run").read_text()
    assert "statistical (fallback)" in report and "no usable update" in report
    assert usage.headline() in report


class Unusable:
    """An agent model whose every reply is unusable: each step falls back after its re-asks."""

    def __init__(self):
        self.calls = 0

    @property
    def model_id(self) -> str:
        return AGENT_ID

    async def complete(self, messages, **kwargs):
        self.calls += 1
        return Completion(text="no idea", model_id=AGENT_ID)


@pytest.mark.parametrize("optimizer", ["agent-reinforce", "agent-reinforce:gp", "agent-reinforce:v1"])
def test_the_fallback_is_the_statistical_agent_of_the_optimizer_asked_for(pool, small_task, tmp_path, optimizer):
    """An LLM agent that never gives a usable update makes exactly the search its optimizer makes alone (the
    default agent's and the GP agent's statistical procedures decide differently), and says it fell back."""

    async def main(agent_model):
        hub = ModelHub(pool, Settings(home=tmp_path / f"home-{agent_model is not None}"))
        unusable = Unusable()
        hub.use(AGENT_ID, unusable)
        try:
            opt = make_optimizer(optimizer, hub=hub, agent_model=agent_model,
                                 **({"pilot_batch": 4} if optimizer != "agent-reinforce" else {}))
            result = await optimize_async(small_task, tiny_space(pool), opt, hub=hub,
                                          config=tiny_config(iterations=4), agent_model=agent_model)
        finally:
            await hub.aclose()
        return result, unusable.calls

    alone, _ = asyncio.run(main(None))
    fell, calls = asyncio.run(main(AGENT_ID))
    steps = len(alone.trace.feedback)
    assert steps >= 2  # the pilot's feedback and at least one step
    assert calls == 3 * steps  # every step asked (and re-asked twice) before it fell back
    assert all(f.agent == "statistical (fallback)" and f.fallback_reason == "invalid" for f in fell.trace.feedback)
    decided = lambda r: ([(e.graph_hash, e.phase, e.iteration) for e in r.trace.records],  # noqa: E731
                         [(f.iteration, f.update, f.summary) for f in r.trace.feedback], r.best_hash)
    assert decided(fell) == decided(alone)
    usage = fell.feedback_agent
    assert (usage.steps, usage.llm_steps, usage.fallback_steps) == (steps, 0, steps)
    assert usage.fallback_reasons == {"invalid": steps} and usage.warning() is not None
