"""Which feedback agent actually ran: the requested agent and, for an LLM agent, how many steps its
model's update drove and how many fell back to the statistical agent, and why.

Why: a search asked to use an LLM agent whose every call failed used to report `llm:X` as its agent,
although no update came from the LLM. A *step* is every feedback call, the initial one included; an
*LLM step* is one whose non-empty update from the model was validated and applied (a reply that
parses but changes nothing is not one: the agent rejects it, `llm_agent`).
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field

from rolegraph.optimize.trace import FeedbackRecord

LLM_PREFIX = "llm:"
STATISTICAL_NOTE = "a hand-written statistical procedure, no LLM"
STATISTICAL_DESCRIPTION = (
    "The statistical feedback agent is a hand-written procedure: a pilot of single models and ensembles, "
    "a weighted-average update of feature probabilities, one-change proposals; there is no LLM in it. "
    "`rolegraph optimize --agent-model MODEL` runs the LLM feedback agent instead."
)


def steps_word(n: int) -> str:
    """ "1 step", "3 steps": the summary and report.md said "1 steps" of a search with one feedback call."""
    return f"{n} step" if n == 1 else f"{n} steps"


def is_llm_step(record: FeedbackRecord) -> bool:
    """The record's update came from an LLM and was applied (not a fallback, not emptied by validation)."""
    return record.agent.startswith(LLM_PREFIX) and record.fallback is None and bool(record.update)


class AgentUsage(BaseModel):
    """What `optimize --json` prints as `feedback_agent`."""

    requested: str
    steps: int = 0
    llm_steps: int = 0
    fallback_steps: int = 0
    fallback_reasons: dict[str, int] = Field(default_factory=dict)
    endpoint: dict = Field(default_factory=dict)
    """For an LLM agent: the context window used (and where it came from) and the structured-output form."""

    @property
    def is_llm(self) -> bool:
        return self.requested.startswith(LLM_PREFIX)

    def headline(self) -> str:
        """e.g. `llm:X (2 of 3 steps; 1 fell back: context)` or `statistical (a hand-written ...)`."""
        if not self.is_llm:
            return f"{self.requested} ({STATISTICAL_NOTE}; {steps_word(self.steps)})"
        fell = ""
        if self.fallback_steps:
            reasons = ", ".join(f"{k} x{v}" if v > 1 else k for k, v in sorted(self.fallback_reasons.items()))
            fell = f"; {self.fallback_steps} fell back: {reasons}"
        return f"{self.requested} ({self.llm_steps} of {steps_word(self.steps)}{fell})"

    def warning(self) -> str | None:
        """One line when an LLM agent was asked for and no step's update came from it."""
        if not self.is_llm or self.steps == 0 or self.llm_steps > 0:
            return None
        reasons = ", ".join(sorted(self.fallback_reasons)) or "unknown"
        return (
            f"warning: every feedback step of {self.requested} fell back to the statistical agent "
            f"({self.fallback_steps} of {self.steps}; {reasons}): this search was driven by the statistical agent"
        )


def agent_usage(
    requested: str | None, records: list[FeedbackRecord], endpoint: dict | None = None
) -> AgentUsage | None:
    """Count the steps of `records` (None when the optimizer has no feedback agent)."""
    if requested is None:
        return None
    llm = [r for r in records if is_llm_step(r)]
    if not requested.startswith(LLM_PREFIX):
        return AgentUsage(requested=requested, steps=len(records))
    fallen = [r for r in records if not is_llm_step(r)]
    reasons = Counter(r.fallback_reason or "invalid" for r in fallen)
    return AgentUsage(
        requested=requested,
        steps=len(records),
        llm_steps=len(llm),
        fallback_steps=len(fallen),
        fallback_reasons=dict(reasons),
        endpoint=endpoint or {},
    )
