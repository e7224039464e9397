"""What a search returns (`SearchResult`) and what `rolegraph optimize --json` prints of it (`SearchResult.summary`).

Kept apart from `api.py`, which runs the search and builds the result: the result's fields and their JSON are read
by callers that never run a search (the CLI's printing, tests), and say what each figure covers: this session's
calls, or the run's over all its sessions.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.provenance import REAL, Provenance, Simulation
from rolegraph.optimize.agent_usage import AgentUsage
from rolegraph.optimize.final import TestScore, selection_summary
from rolegraph.optimize.pareto import ParetoPoint
from rolegraph.optimize.trace import SearchTrace
from rolegraph.optimize.warmstart import WARM_AGENT

PAID_USD_DIGITS = 9
"""Dollars in the JSON summary to a nano-dollar: sums over calls in another order differ only below it."""


class SearchResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    task: str
    optimizer: str
    feedback_agent: AgentUsage | None = None
    """The requested feedback agent and, for an LLM agent, how many steps it drove and how many fell back."""
    run_dir: str | None = None
    best_graph: GraphSpec
    best_hash: str
    test: TestScore
    singles: list[TestScore] = Field(default_factory=list)
    candidates: list[dict] = Field(default_factory=list)
    evaluations: int
    iterations: int
    simulated: bool  # every answer of the search was simulated
    simulation: Simulation = REAL  # "simulated", "partly simulated" or "real", from the replies
    provenance: Provenance | None = None  # what answered: servers' model ids, weights, simulator, version
    world: int | None = None  # the simulator world of the sim models searched over (None: no sim model)
    pareto: list[ParetoPoint] = Field(default_factory=list)
    trace: SearchTrace
    paid_calls: int = 0
    """Calls of this search the response cache did not answer: counted from its start, so a reused hub's earlier
    calls are not in it; a resumed run counts this session's (its earlier sessions kept only their dollars)."""
    paid_usd: float = 0.0
    """Dollars of the search's paid calls (the cache answered the rest), over all its sessions."""
    timed_out: tuple[int, float] = (0, 0.0)
    """Requests abandoned at their `timeout_s` (the endpoint may bill them; not in `paid_usd`), and their worst case
    in dollars (`CallStats.timed_out`), over all the run's sessions as `paid_usd` is (`checkpoint.TimedOutTally`);
    a search without a run directory has one session."""
    cap_miss: str | None = None
    """Said when the objective's cap was met by no graph (`FinalChoice.cap_miss`): the result is the least-bad one."""

    @property
    def best_single(self) -> TestScore | None:
        return max(self.singles, key=lambda s: (s.objective, -s.flops_units), default=None)

    @property
    def warm_start(self) -> dict[str, Any] | None:
        """What a warm start (`init_from`) carried over, and why anything did not; None without one."""
        step = next((f for f in self.trace.feedback if f.agent == WARM_AGENT), None)
        return None if step is None else {"carried": step.summary, "not_carried": list(step.hurt)}

    def summary(self) -> dict[str, Any]:
        """What `rolegraph optimize --json` prints."""
        single = self.best_single
        return {
            "task": self.task,
            "optimizer": self.optimizer,
            "feedback_agent": self.feedback_agent.model_dump() if self.feedback_agent else None,
            "run_dir": self.run_dir,
            "best_hash": self.best_hash,
            "best_graph": self.best_graph.model_dump(mode="json", exclude_defaults=True),
            "test": _score(self.test) | {"held_out": True},
            "selection": selection_summary(self.candidates, self.best_hash),
            "best_single": _score(single) if single else None,
            "evaluations": self.evaluations,
            "iterations": self.iterations,
            "simulated": self.simulated,
            "world": self.world,
            "simulation": self.simulation,
            "provenance": self.provenance.model_dump() if self.provenance is not None else None,
            "paid_calls": self.paid_calls,
            "paid_usd": round(self.paid_usd, PAID_USD_DIGITS),
            "timed_out_attempts": self.timed_out[0],
            "timed_out_usd": round(self.timed_out[1], PAID_USD_DIGITS),
            "trimmed_item_runs": sum(r.trimmed_items for r in self.trace.records),
            "warm_start": self.warm_start,
            "cap_miss": self.cap_miss,
        }


def _score(score: TestScore) -> dict[str, Any]:
    """A test score with its calls and cached calls (None, JSON null: the run's files did not record them)."""
    unknown = {"calls": None, "cached_calls": None} if not score.calls_recorded else {}
    return score.model_dump() | unknown
