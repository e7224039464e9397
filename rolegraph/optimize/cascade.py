"""A cascade's outcome computed from paired outcomes, without running anything.

Every candidate graph was scored on the same items (optimize/paired.py). A cascade of them answers an item
at the first stage whose stop rule holds on that stage's observed signals, so its score on the item is that
stage's score, and what it spent is what the stages up to there add: their FLOPs units and dollars minus
the nodes a stage reads from earlier stages (graphs/router.py). The router runtime makes exactly these
calls (equal nodes are equal calls), so a router's evaluation reproduces these numbers on the sim.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rolegraph.evaluate.result import EvalResult
from rolegraph.graphs.analysis import TokenProfile
from rolegraph.graphs.router import RouterSpec, Stage, StopRule, stage_flops
from rolegraph.graphs.signals import Signals
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool


@dataclass
class Outcomes:
    """One candidate graph on one split's items: scores, signals and spend, item by item (same order for all)."""

    name: str
    source: str
    spec: GraphSpec
    result: EvalResult
    score: np.ndarray = field(init=False)
    agreement: np.ndarray = field(init=False)  # NaN where not observed
    verified: np.ndarray = field(init=False)  # 1 accepted, 0 rejected, -1 no verdict
    parsable: np.ndarray = field(init=False)
    logprob: np.ndarray = field(init=False)  # NaN where not returned
    latency: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        items = self.result.items
        self.score = np.array([it.score for it in items], dtype=float)
        self.agreement = np.array([math.nan if it.agreement is None else it.agreement for it in items], dtype=float)
        self.verified = np.array([-1 if it.verified is None else int(it.verified) for it in items], dtype=int)
        self.parsable = np.array([it.answer is not None and it.error is None for it in items], dtype=bool)
        self.logprob = np.array([math.nan if it.logprob is None else it.logprob for it in items], dtype=float)
        self.latency = np.array([it.latency_s for it in items], dtype=float)

    @property
    def n(self) -> int:
        return len(self.score)

    def passes(self, rule: StopRule) -> np.ndarray:
        """Items on which the rule holds (the vector form of `StopRule.passes`)."""
        ok = self.parsable.copy()
        if rule.min_agreement is not None:
            with np.errstate(invalid="ignore"):
                ok &= np.nan_to_num(self.agreement, nan=-1.0) >= rule.min_agreement - 1e-9
        if rule.require_verified:
            ok &= self.verified == 1
        if rule.min_logprob is not None:
            ok &= np.nan_to_num(self.logprob, nan=-math.inf) >= rule.min_logprob
        return ok

    def item_signals(self, i: int) -> Signals:
        it = self.result.items[i]
        return Signals(
            agreement=it.agreement, verified=it.verified, parsable=bool(self.parsable[i]), logprob=it.logprob
        )

    def node_dollars(self, exclude: set[str]) -> np.ndarray:
        """Dollars per item of the nodes not in `exclude` (those a stage reuses cost it nothing)."""
        return np.array(
            [sum(u.cost_usd for nid, u in it.node_usage.items() if nid not in exclude) for it in self.result.items],
            dtype=float,
        )


@dataclass
class Chain:
    """Candidates (indices into a list of `Outcomes`) in the order they run, with the stop rules between them."""

    stages: tuple[int, ...]
    rules: tuple[StopRule, ...]  # one per stage but the last

    def router(self, outcomes: list[Outcomes], name: str = "router", description: str | None = None) -> RouterSpec:
        stages = [
            Stage(graph=outcomes[c].spec, stop=self.rules[i] if i < len(self.rules) else None)
            for i, c in enumerate(self.stages)
        ]
        return RouterSpec(name=name, description=description, stages=stages)


@dataclass
class Point:
    """A cascade's mean outcome on one split."""

    chain: Chain
    accuracy: float
    flops_units: float
    dollars: float
    latency_s: float
    shares: list[float]  # share of items each stage answered
    scores: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))


class CascadeCosts:
    """Per-stage increments of a chain (FLOPs units, dollars per item), cached by (previous stages, stage)."""

    def __init__(self, outcomes: list[Outcomes], pool: ModelPool, profile: TokenProfile):
        self.outcomes, self.pool, self.profile = outcomes, pool, profile
        self._cache: dict[tuple[int, ...], tuple[float, np.ndarray]] = {}

    def increment(self, stages: tuple[int, ...]) -> tuple[float, np.ndarray]:
        """What the last of `stages` adds when it runs after the others."""
        if stages not in self._cache:
            router = RouterSpec(stages=[Stage(graph=self.outcomes[c].spec) for c in stages])
            flops = stage_flops(router, self.pool, self.profile)[-1]
            reused = set(router.reuse()[-1])
            self._cache[stages] = (flops, self.outcomes[stages[-1]].node_dollars(reused))
        return self._cache[stages]


def evaluate_chain(chain: Chain, outcomes: list[Outcomes], costs: CascadeCosts, answered: list[np.ndarray]) -> Point:
    """The chain's point given, per stage but the last, the items its rule passes (`answered[i]`)."""
    n = outcomes[chain.stages[0]].n
    left = np.ones(n, dtype=bool)
    score = np.zeros(n)
    flops = np.zeros(n)
    dollars = np.zeros(n)
    latency = np.zeros(n)
    shares = []
    for i, c in enumerate(chain.stages):
        inc_flops, inc_dollars = costs.increment(chain.stages[: i + 1])
        flops[left] += inc_flops
        dollars[left] += inc_dollars[left]
        latency[left] += outcomes[c].latency[left]
        stop = left & answered[i] if i < len(answered) else left.copy()
        score[stop] = outcomes[c].score[stop]
        shares.append(float(stop.mean()))
        left &= ~stop
    return Point(
        chain=chain,
        accuracy=float(score.mean()),
        flops_units=float(flops.mean()),
        dollars=float(dollars.mean()),
        latency_s=float(latency.mean()),
        shares=shares,
        scores=score,
    )
