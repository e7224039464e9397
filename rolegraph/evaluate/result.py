"""`EvalResult`: a graph's score on a set of items, with what the optimizer reads as credit."""

from __future__ import annotations

from pydantic import BaseModel, Field

from rolegraph.errors import RolegraphError, one_line
from rolegraph.models.provenance import REAL, Provenance, ServedBy, Simulation

UNKNOWN_FAILURE = "unknown error"
"""The cause `failure_line` gives when no failed item recorded one: the count alone would hide that it is unknown."""


class NodeUsage(BaseModel):
    """What one node spent on one item (the store's node_traces row; role/model come from the graph)."""

    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    cost_usd: float = 0.0
    truncated_calls: int | None = None  # replies cut at max_tokens (NodeTrace.truncated_calls); None: not recorded
    calls: int = 0
    cached_calls: int = 0  # answered from the response cache (latency_s keeps what the first call measured)
    logprob: float | None = None  # mean token log-probability of its last reply, when the endpoint returned them
    # searchers' evidence cut to fit its context window (NodeTrace's); the store keeps the run's count of items
    # trimmed (`EvalResult.trimmed_items`), not this per node: a node_traces column would need a schema migration
    trimmed_evidence_tokens: int = 0


class ItemScore(BaseModel):
    item_id: str
    score: float = 0.0
    answer: str | None = None
    gold: str | None = None
    latency_s: float = 0.0
    critical_path_s: float = 0.0
    cost_usd: float = 0.0
    tokens: int = 0
    error: str | None = None  # a failure (not a wrong answer)
    node_answers: dict[str, str | None] = Field(default_factory=dict)
    node_scores: dict[str, float] = Field(default_factory=dict)
    flops_units: float = 0.0
    node_usage: dict[str, NodeUsage] = Field(default_factory=dict)
    simulation: Simulation | None = None  # what answered this item's run (None: nothing answered)
    served: dict[str, ServedBy] = Field(default_factory=dict, exclude=True)
    """Per pool model, what its replies said answered: gathered into the result's provenance (stored there,
    not per item), so it is left out of dumps."""
    # what a deployment observes without the gold answer (rolegraph.graphs.signals); None where not observed
    agreement: float | None = None  # share of the other answering nodes agreeing with the answer
    verified: bool | None = None  # a verifier's verdict on the answer
    logprob: float | None = None  # the output's mean token log-probability
    stage: int | None = None  # a router's run: the stage that answered (1-based)


class NodeStats(BaseModel):
    """Per node: how often its own answer was right, and how often the output agreed with it."""

    role: str
    model: str
    n: int = 0
    correct_rate: float | None = None  # None for nodes that give no answer (planner, searcher)
    agree_rate: float | None = None
    truncated: int | None = None  # items on which a reply of the node was cut at max_tokens; None: not recorded


class EvalResult(BaseModel):
    task: str
    graph_name: str = "graph"
    graph_hash: str = ""
    n: int = 0
    accuracy: float = 0.0
    ci95: tuple[float, float] = (0.0, 0.0)  # Wilson interval
    mean_latency_s: float = 0.0
    p95_latency_s: float = 0.0
    mean_critical_path_s: float = 0.0
    tokens: int = 0
    cost_usd: float = 0.0
    flops_units: float = 0.0  # per item, the paper's budget units
    failures: int = 0
    skipped: int = 0
    simulated: bool = False  # every answer was simulated (see `simulation` for the three-way label)
    simulation: Simulation = REAL  # "simulated", "partly simulated" (a mix) or "real", from the replies
    provenance: Provenance | None = None  # what answered: server model ids, weights, sampling, version
    world: int | None = None  # the simulator world of its sim models (None when no sim model answered)
    per_node: dict[str, NodeStats] = Field(default_factory=dict)
    items: list[ItemScore] = Field(default_factory=list)
    run_id: str | None = None  # id in the results store, when stored
    partial: bool = False  # stopped early (a budget ran out): `items` holds what was computed
    calls: int = 0  # model calls of every item run
    cached_calls: int = 0  # of them answered from the response cache (their latency is the one first measured)
    trimmed_items: int = 0
    """Items on which some node was sent fewer search hits than its searchers found, to fit its model's context
    window (`trimmed_item_count`): set by `evaluate` and kept by the store, whose node rows do not keep the tokens."""
    timed_out_attempts: int = 0
    """Requests abandoned at their model's `timeout_s` while this evaluation ran (`CallStats.timed_out`, the hub's
    count over the run): the endpoint may bill each, and none is in `tokens` or `cost_usd`, so it is said apart."""
    timed_out_usd: float = 0.0
    """Those requests' worst case at the pool's prices (`CallStats.timed_out_usd`): what they may have cost at most."""

    @property
    def every_failed(self) -> bool:
        """Every item failed (no model answered): the accuracy (0) and latencies (0 s) stored for it measure
        nothing, so `rolegraph eval` shows n/a and exits 2, and `evaluate` raises `ItemsFailedError`."""
        return self.n > 0 and self.failures >= self.n

    def failure_line(self, name: str | None = None) -> str | None:
        """How many items failed and the first failure's model and cause, in one line (None when none failed):
        a failed item is not a wrong answer, so an accuracy over failures must not stand alone."""
        if not self.failures:
            return None
        first = one_line(next((it.error for it in self.items if it.error), UNKNOWN_FAILURE), limit=None)
        return f"graph '{name or self.graph_name}': {self.failures} of {self.n} items failed; first failure: {first}"

    def summary(self) -> dict:
        """The keys `rolegraph eval --json` prints."""
        return {
            "task": self.task,
            "graph": self.graph_name,
            "n": self.n,
            "accuracy": self.accuracy,
            "ci95": list(self.ci95),
            "mean_latency_s": self.mean_latency_s,
            "cost_usd": self.cost_usd,
            "tokens": self.tokens,
            "flops_units": self.flops_units,
            "failures": self.failures,
            "simulated": self.simulated,
            "world": self.world,
            "simulation": self.simulation,
            "provenance": self.provenance.model_dump() if self.provenance is not None else None,
            "calls": self.calls,
            "cached_calls": self.cached_calls,
            "trimmed_items": self.trimmed_items,
            "timed_out_attempts": self.timed_out_attempts,
            "timed_out_usd": self.timed_out_usd,
        }


def trimmed_item_count(items: list[ItemScore]) -> int:
    """How many of `items` had some node's searchers' evidence trimmed to fit its model's context window
    (`agents.trim`): their answers were written from fewer hits than were found."""
    return sum(any(use.trimmed_evidence_tokens for use in it.node_usage.values()) for it in items)


class ItemsFailedError(RolegraphError):
    """Every item of an evaluation failed (the model never answered: a server down, a bad key): its accuracy
    would read as a measured 0%. Raised by `evaluate` as `rolegraph eval` exits 2 on it; partial failures are
    returned (each `ItemScore.error` says why, `EvalResult.failure_line()` sums them up). `result` is the
    EvalResult all the same (stored, when a store was given), for a caller that wants its items' errors."""

    def __init__(self, result: EvalResult, name: str | None = None):
        super().__init__(result.failure_line(name) or f"graph '{name or result.graph_name}': every item failed")
        self.result = result


def raise_if_every_failed(result: EvalResult, name: str | None = None) -> EvalResult:
    """`result`, unless every item failed: then `ItemsFailedError` naming the first failure."""
    if result.every_failed:
        raise ItemsFailedError(result, name)
    return result
