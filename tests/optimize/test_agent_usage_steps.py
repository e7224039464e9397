"""The agent headline counts its steps in good English: a search with one feedback call said "1 steps" in the
optimize summary and report.md."""
from __future__ import annotations

from rolegraph.optimize.agent_usage import STATISTICAL_NOTE, agent_usage
from rolegraph.optimize.trace import FeedbackRecord

AGENT = "llm:openai/gpt-4o-mini"


def _rec(i: int, agent: str) -> FeedbackRecord:
    return FeedbackRecord(iteration=i, agent=agent, update={"presence": {"n0": 0.9}})


def test_one_step_is_singular():
    assert agent_usage("statistical", [_rec(0, "statistical")]).headline() == (
        f"statistical ({STATISTICAL_NOTE}; 1 step)"
    )
    assert agent_usage(AGENT, [_rec(0, AGENT)]).headline() == f"{AGENT} (1 of 1 step)"


def test_other_counts_are_plural():
    assert agent_usage("statistical", []).headline().endswith("; 0 steps)")
    assert agent_usage("statistical", [_rec(i, "statistical") for i in range(2)]).headline().endswith("; 2 steps)")
    assert agent_usage(AGENT, [_rec(0, AGENT), _rec(1, AGENT)]).headline() == f"{AGENT} (2 of 2 steps)"
