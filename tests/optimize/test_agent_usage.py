"""Which feedback agent ran: steps counted from the trace's records, the headline the CLI and the reports
show, and the warning when an LLM agent was asked for and every step fell back."""
from __future__ import annotations

import asyncio

from rolegraph.models.hub import ModelHub
from rolegraph.chat.types import Completion
from rolegraph.optimize.agent_usage import agent_usage
from rolegraph.optimize.api import make_optimizer, optimize_async
from rolegraph.optimize.trace import FeedbackRecord
from rolegraph.settings import Settings

from .helpers import tiny_config, tiny_space

AGENT = "llm:openai/gpt-4o-mini"


def _rec(i: int, agent: str = AGENT, fallback: str | None = None, reason: str | None = None,
         update: dict | None = None) -> FeedbackRecord:
    return FeedbackRecord(iteration=i, agent=agent, fallback=fallback, fallback_reason=reason,
                          update={"presence": {"n0": 0.9}} if update is None else update)


def test_llm_and_fallback_steps_are_counted_with_their_reasons():
    records = [_rec(0), _rec(1, "statistical (fallback)", "cut", "context"), _rec(2),
               _rec(3, "statistical (fallback)", "bad", "invalid"), _rec(4, "statistical (fallback)", "x", "context")]
    usage = agent_usage(AGENT, records)
    assert (usage.steps, usage.llm_steps, usage.fallback_steps) == (5, 2, 3)
    assert usage.fallback_reasons == {"context": 2, "invalid": 1}
    assert usage.headline() == f"{AGENT} (2 of 5 steps; 3 fell back: context x2, invalid)"
    assert usage.warning() is None


def test_an_applied_but_emptied_update_is_not_an_llm_step():
    """An update the optimizer rejected (kept as an empty update with a note) did not drive the search."""
    usage = agent_usage(AGENT, [_rec(0, fallback="update rejected: ...", reason="invalid", update={}), _rec(1)])
    assert (usage.llm_steps, usage.fallback_steps, usage.fallback_reasons) == (1, 1, {"invalid": 1})


def test_every_step_falling_back_is_a_warning_and_the_statistical_agent_says_what_it_is():
    usage = agent_usage(AGENT, [_rec(i, "statistical (fallback)", "cut", "context") for i in range(3)])
    assert usage.headline() == f"{AGENT} (0 of 3 steps; 3 fell back: context x3)"
    assert usage.warning().startswith("warning: every feedback step") and "context" in usage.warning()
    stat = agent_usage("statistical", [_rec(i, "statistical") for i in range(3)])
    assert "no LLM" in stat.headline() and stat.warning() is None and stat.llm_steps == 0
    assert agent_usage(None, []) is None  # optimizers without a feedback agent


class Garbage:
    @property
    def model_id(self) -> str:
        return "openai/gpt-4o-mini"

    async def complete(self, messages, **kwargs):
        return Completion(text="more nodes!", model_id=self.model_id)


def test_a_search_whose_llm_steps_all_fell_back_warns_in_result_and_reports(pool, small_task, tmp_path, capsys,
                                                                           monkeypatch):
    async def main():
        hub = ModelHub(pool, Settings(home=tmp_path / "home"))
        hub.use("openai/gpt-4o-mini", Garbage())
        try:
            opt = make_optimizer("agent-reinforce", hub=hub, agent_model="openai/gpt-4o-mini")
            return await optimize_async(small_task, tiny_space(pool), opt, hub=hub,
                                        config=tiny_config(iterations=4), out=tmp_path / "run",
                                        agent_model="openai/gpt-4o-mini")
        finally:
            await hub.aclose()

    result = asyncio.run(main())  # the pilot is iterations 1-3 (4 graphs, then 2 mixes; 2 a batch): its feedback, a step
    usage = result.feedback_agent
    assert (usage.steps, usage.llm_steps, usage.fallback_steps, usage.fallback_reasons) == (2, 0, 2, {"invalid": 2})
    assert result.summary()["feedback_agent"]["fallback_steps"] == 2
    from rolegraph.reports import render, write_html

    report = render(tmp_path / "run").read_text()
    assert usage.headline() in report and usage.warning() in report
    page = write_html(tmp_path / "run").read_text()
    assert "every feedback step" in page
    from rolegraph.cli.optimize_output import print_result

    monkeypatch.setenv("COLUMNS", "400")  # rich wraps at 80 columns when stdout is not a terminal
    print_result(result)
    out = capsys.readouterr().out
    assert f"feedback agent {usage.headline()}" in out and usage.warning() in out
