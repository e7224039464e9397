"""`SearchTrace`: every evaluation a search paid for, what each iteration concluded, and the pooled
per-graph statistics that choose the best graph.

A graph evaluated several times (re-sampled, proposed again, re-checked on validation items) is
judged on all its items together. Ranking uses a shrunk accuracy (pulled toward the search's mean
by `PRIOR_ITEMS` pseudo-items) so a lucky graph scored on one small batch does not beat a graph
that held up over several batches: the winner's curse of picking a max over noisy scores. The
prior's weight is empirical-Bayes sized: accuracies of different graphs spread by about 0.1, and
p(1-p)/0.1^2 is about 24 items at p near 0.5.

Training accuracies are also adjusted for batch difficulty. Every graph of one iteration is scored
on the same items, and item difficulty is shared by all graphs (a hard question is hard for every
model), so a graph that happened to be scored on easy batches would otherwise beat a better graph
scored on harder ones. The adjustment is the two-way additive model accuracy = graph effect + batch
offset, fitted by alternating weighted means over the batches that scored two or more graphs
(`batch_offsets`), the offsets shrunk toward 0 as random effects; a graph's pooled accuracy is then its
scores with their batches' offsets removed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from rolegraph.evaluate.result import NodeStats
from rolegraph.graphs.io import graph_hash
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.provenance import REAL, SIMULATED, ServedBy, Simulation, combine, merge_served, simulation_of
from rolegraph.optimize.choices import Choices
from rolegraph.optimize.objectives import Objective

Phase = Literal["prior", "pilot", "search", "validation", "test", "single"]
CHARGED_PHASES = frozenset({"pilot", "search", "validation"})
"""Phases whose item runs count against the search's evaluation budget (test runs only report)."""
EVIDENCE_PHASES = CHARGED_PHASES | {"prior"}
"""Phases that are evidence on a graph: charged ones and `prior`, an earlier run's training scores
imported by a warm start (`--init-from`), which were paid for by that run."""
PRIOR_ITEMS = 24.0
TRAINING_PHASES = frozenset({"prior", "pilot", "search"})
"""Phases whose batches differ between records (validation items are one shared set)."""
OFFSET_ROUNDS = 200
OFFSET_TOLERANCE = 1e-7
"""Alternating-means rounds at most, and the change in every offset below which they stop."""
OFFSET_MIN_DEGREES = 24
"""Residual degrees of freedom below which the offsets are not shrunk (too few to measure their noise)."""
EXACT_FIT = 1e-12
"""Residual variance below which the additive model fits exactly (nothing to shrink)."""
SELECTION_Z = 2.0
"""Pessimism of the choice: graphs rank by shrunk accuracy minus this many standard errors, so among
near-ties the graph with more evidence wins, and a graph that looks best on few items (the winner's
curse of taking a max over dozens of noisy scores) has to hold up before it is chosen."""


class EvalRecord(BaseModel):
    """One evaluation: a graph scored on `n` items (cost: n item-level graph runs if charged)."""

    seq: int
    iteration: int
    phase: Phase
    source: str  # sampled | proposed | pilot | candidate | test | single
    graph_hash: str
    graph_name: str = ""
    objective: float
    accuracy: float
    latency_s: float  # mean per item
    dollars: float  # mean per item
    flops_units: float = 0.0
    n: int
    items: list[str] = Field(default_factory=list)
    evaluations: int = 0  # cumulative charged item runs after this record
    simulated: bool = False  # every answer simulated (before labels existed: any sim model)
    simulation: Simulation | None = None  # the three-way label from the replies (None: recorded before it)
    served: dict[str, ServedBy] = Field(default_factory=dict)  # per pool model: what its replies said answered
    trimmed_items: int = 0  # items whose evidence was trimmed to a model's context window (agents/trim.py)

    @property
    def label(self) -> Simulation:
        return self.simulation or (SIMULATED if self.simulated else REAL)


def records_simulation(records: Iterable[EvalRecord], configured: Simulation | None = None) -> Simulation:
    """The label of a search from its evaluations: simulated, partly simulated or real. With no evaluation
    (a search stopped before its first), `configured` (`configured_simulation`): the replies say nothing, and
    "real" there once labelled a sim-pool run real."""
    return combine(r.label for r in records) or configured or REAL


def configured_simulation(config: dict) -> Simulation | None:
    """The label the run's config gives its space's models (their pool entries' `simulated`, as recorded at
    the start): all sim, simulated; mixed, partly simulated; None for a run made before provenance was kept."""
    models = (config.get("provenance") or {}).get("models") or {}
    ids = config.get("space", {}).get("models") or list(models)
    return simulation_of(models[m].get("simulated") for m in ids if m in models)


def run_simulation(run: dict) -> Simulation:
    """The label of a loaded run (`load_run`): from its evaluations, else from its configured models."""
    return records_simulation(run["records"], configured_simulation(run["config"]))


def records_served(records: Iterable[EvalRecord]) -> dict[str, ServedBy]:
    """What answered each pool model over a search's evaluations."""
    return merge_served(r.served for r in records)


class IterationRecord(BaseModel):
    iteration: int
    evaluations: int
    best_hash: str | None
    best_objective: float | None
    batch_best: float | None = None


class FeedbackRecord(BaseModel):
    """What a feedback agent said at one iteration (0 = the initialisation)."""

    iteration: int
    agent: str
    summary: str = ""
    helped: list[str] = Field(default_factory=list)
    hurt: list[str] = Field(default_factory=list)
    update: dict = Field(default_factory=dict)
    fallback: str | None = None
    fallback_reason: str | None = None
    attempts: int = 1
    notes: list[str] = Field(default_factory=list)


class SearchTrace(BaseModel):
    records: list[EvalRecord] = Field(default_factory=list)
    iterations: list[IterationRecord] = Field(default_factory=list)
    feedback: list[FeedbackRecord] = Field(default_factory=list)

    @property
    def spent(self) -> int:
        return sum(r.n for r in self.records if r.phase in CHARGED_PHASES)


@dataclass
class Evaluation:
    """An evaluation as an optimizer sees it (with per-node credit the trace does not keep)."""

    record: EvalRecord
    graph: GraphSpec
    choices: Choices | None
    per_node: dict[str, NodeStats] = field(default_factory=dict)

    @property
    def objective(self) -> float:
        return self.record.objective

    @property
    def hash(self) -> str:
        """The evaluated graph's own hash (the proposal's); `record.graph_hash` is its structure's."""
        return graph_hash(self.graph)


@dataclass
class GraphStats:
    """All of one graph's charged evaluations pooled (item-weighted means)."""

    graph_hash: str
    n: int = 0
    correct: float = 0.0
    latency_sum: float = 0.0
    dollars_sum: float = 0.0
    first_seq: int = 0
    validation_n: int = 0
    validation_correct: float = 0.0
    validation_latency_sum: float = 0.0
    validation_dollars_sum: float = 0.0
    raw_correct: float = 0.0
    validation_raw_correct: float = 0.0
    """Right answers as scored, before the batch-difficulty adjustment (what a reader can check)."""

    def add(self, r: EvalRecord, offset: float = 0.0) -> None:
        """Pool `r`; `offset` is its batch's difficulty offset (subtracted from its accuracy)."""
        if r.phase == "validation":
            self.validation_n += r.n
            self.validation_correct += (r.accuracy - offset) * r.n
            self.validation_raw_correct += r.accuracy * r.n
            self.validation_latency_sum += r.latency_s * r.n
            self.validation_dollars_sum += r.dollars * r.n
            return
        self.n += r.n
        self.correct += (r.accuracy - offset) * r.n
        self.raw_correct += r.accuracy * r.n
        self.latency_sum += r.latency_s * r.n
        self.dollars_sum += r.dollars * r.n

    @property
    def accuracy(self) -> float:
        """Batch-difficulty-adjusted mean over the training items (what ranking uses)."""
        return min(1.0, max(0.0, self.correct / self.n)) if self.n else 0.0

    @property
    def raw_accuracy(self) -> float | None:
        """Mean score over the training items as scored (no adjustment); None without any."""
        return self.raw_correct / self.n if self.n else None

    @property
    def validation_raw_accuracy(self) -> float | None:
        return self.validation_raw_correct / self.validation_n if self.validation_n else None

    @property
    def latency(self) -> float:
        return self.latency_sum / self.n if self.n else 0.0

    @property
    def dollars(self) -> float:
        return self.dollars_sum / self.n if self.n else 0.0

    def objective(self, objective: Objective) -> float:
        return objective.value(self.accuracy, self.latency, self.dollars)

    def shrunk_objective(self, objective: Objective, prior_accuracy: float, pessimism: float = 0.0) -> float:
        acc = _lower((self.correct + PRIOR_ITEMS * prior_accuracy) / (self.n + PRIOR_ITEMS), self.n, pessimism)
        return objective.value(acc, self.latency, self.dollars)

    def combined_accuracy(self, prior_accuracy: float) -> float:
        """Training and validation items together, shrunk toward `prior_accuracy` (within [0, 1])."""
        n = self.n + self.validation_n
        acc = (self.correct + self.validation_correct + PRIOR_ITEMS * prior_accuracy) / (n + PRIOR_ITEMS)
        return min(1.0, max(0.0, acc))

    def combined_objective(self, objective: Objective, prior_accuracy: float, pessimism: float = 0.0) -> float:
        """Training and validation items together, shrunk: the final choice among re-checked candidates."""
        n = self.n + self.validation_n
        acc = self.combined_accuracy(prior_accuracy)
        latency = (self.latency_sum + self.validation_latency_sum) / n if n else 0.0
        dollars = (self.dollars_sum + self.validation_dollars_sum) / n if n else 0.0
        return objective.value(_lower(acc, n, pessimism), latency, dollars)

    def validation_objective(self, objective: Objective) -> float | None:
        if not self.validation_n:
            return None
        n = self.validation_n
        return objective.value(
            self.validation_correct / n, self.validation_latency_sum / n, self.validation_dollars_sum / n
        )


def shrunk_se(acc: float, n: int) -> float:
    """Standard error of a shrunk mean `acc` over n items (+ the prior's pseudo-items)."""
    return math.sqrt(acc * (1 - acc) / (n + PRIOR_ITEMS))


def _lower(acc: float, n: int, pessimism: float) -> float:
    """`acc` lowered by `pessimism` standard errors of a shrunk mean over n items (+ the prior's)."""
    acc = min(1.0, max(0.0, acc))
    return acc - pessimism * shrunk_se(acc, n)


def _batch(r: EvalRecord) -> tuple[str, ...]:
    return tuple(sorted(r.items))


def batch_offsets(records: list[EvalRecord], shrink: bool = True) -> dict[tuple[str, ...], float]:
    """Difficulty offset of each batch (training batch, or validation slice of the final re-check) that
    scored two or more graphs (item-weighted mean 0).

    Least squares of accuracy = effect[graph] + offset[batch], by alternating weighted means (each
    step is the exact minimiser in one block, so the fit converges). A batch that scored one graph
    says nothing about its difficulty apart from that graph, so it gets no offset.

    `shrink` (the default) treats the offsets as random effects: each is pulled toward 0 by the ratio of
    the noise in its estimate to the spread of true difficulties, both measured from the records
    (method of moments, `_offset_ridge`). Why: a 16-item batch scored by two or three graphs has an
    offset estimate as noisy as the difficulty it measures; unshrunk, offsets of +-0.2 came out of
    that noise and lifted a graph first seen on such a batch to the top of the ranking (worlds 4-6, with
    the pilot's refinement: never stays on target 57 of 144 searches against 67; world 0's held-out seeds
    10-39 show no loss, BENCHMARKS.md "Search efficiency")."""
    batches: dict[tuple[str, ...], list[EvalRecord]] = {}
    for r in records:
        if r.phase in EVIDENCE_PHASES and r.n and r.items:
            batches.setdefault(_batch(r), []).append(r)
    shared = {k: rs for k, rs in batches.items() if len({r.graph_hash for r in rs}) > 1}
    if not shared:
        return {}
    keys = list(shared)
    linked = [(b, r) for b, k in enumerate(keys) for r in shared[k]]
    hashes = {h: i for i, h in enumerate(dict.fromkeys(r.graph_hash for _, r in linked))}
    fit = _OffsetFit(
        batch=np.array([b for b, _ in linked]),
        graph=np.array([hashes[r.graph_hash] for _, r in linked]),
        acc=np.array([r.accuracy for _, r in linked], dtype=float),
        n=np.array([r.n for _, r in linked], dtype=float),
        batches=len(keys),
        graphs=len(hashes),
    )
    offset, effect = fit.solve(0.0)
    ridge = _offset_ridge(fit, offset, effect) if shrink else 0.0
    if ridge == math.inf:
        offset = np.zeros(len(keys))
    elif ridge > 0:
        offset, _ = fit.solve(ridge)
    return {k: float(v) for k, v in zip(keys, offset)}


@dataclass
class _OffsetFit:
    """The two-way additive model's data: one row per record on a shared batch."""

    batch: np.ndarray
    graph: np.ndarray
    acc: np.ndarray
    n: np.ndarray
    batches: int
    graphs: int

    @property
    def weight(self) -> np.ndarray:
        """Items per batch."""
        return np.bincount(self.batch, weights=self.n, minlength=self.batches)

    def solve(self, ridge: float) -> tuple[np.ndarray, np.ndarray]:
        """(offsets, effects) minimising the weighted squared error plus `ridge` x sum(offset^2) (item units)."""
        weight = self.weight
        graph_n = np.bincount(self.graph, weights=self.n, minlength=self.graphs)
        offset = np.zeros(self.batches)
        effect = np.zeros(self.graphs)
        for _ in range(OFFSET_ROUNDS):
            by_graph = np.bincount(self.graph, weights=(self.acc - offset[self.batch]) * self.n, minlength=self.graphs)
            effect = by_graph / graph_n
            by_batch = np.bincount(self.batch, weights=(self.acc - effect[self.graph]) * self.n, minlength=self.batches)
            new = by_batch / (weight + ridge)
            new = new - float(new @ weight) / float(weight.sum())
            moved = float(np.max(np.abs(new - offset)))
            offset = new
            if moved < OFFSET_TOLERANCE:
                break
        return offset, effect


def _offset_ridge(fit: _OffsetFit, offset: np.ndarray, effect: np.ndarray) -> float:
    """sigma^2 / tau^2 in items: the per-item residual variance over the variance of true batch offsets,
    by the method of moments on the unshrunk fit (the spread of the fitted offsets less what their
    noise alone explains). 0 when the model fits exactly, inf when the offsets are all noise, and 0 (the
    fixed-effects fit) while the residual degrees of freedom are too few to measure the noise: a short
    search keeps the adjustment it had (with the binomial variance standing in, a 300-item search lost
    every offset and chose worse, tests/optimize/test_agent_vs_random.py)."""
    weight = fit.weight
    residual = fit.acc - effect[fit.graph] - offset[fit.batch]
    degrees = len(fit.acc) - fit.graphs - fit.batches + 1
    if degrees < OFFSET_MIN_DEGREES:
        return 0.0
    sigma2 = float(np.sum(fit.n * residual**2) / degrees)
    if sigma2 <= EXACT_FIT:
        return 0.0
    tau2 = float(offset**2 @ weight / weight.sum()) - fit.batches * sigma2 / float(weight.sum())
    return sigma2 / tau2 if tau2 > 0 else math.inf


def pooled(records: list[EvalRecord]) -> dict[str, GraphStats]:
    """GraphStats per hash over evidence records (prior, pilot and search pooled, validation kept apart;
    both adjusted for batch difficulty: a validation slice easier than the training batches would
    otherwise lift most the candidate with the fewest training items)."""
    offsets = batch_offsets(records)
    stats: dict[str, GraphStats] = {}
    for r in records:
        if r.phase not in EVIDENCE_PHASES:
            continue
        if r.graph_hash not in stats:
            stats[r.graph_hash] = GraphStats(r.graph_hash, first_seq=r.seq)
        stats[r.graph_hash].add(r, offsets.get(_batch(r), 0.0))
    return stats


def prior_accuracy(records: list[EvalRecord]) -> float:
    """Item-weighted mean accuracy of the training-side evaluations (the shrinkage target)."""
    train = [r for r in records if r.phase in TRAINING_PHASES]
    n = sum(r.n for r in train)
    return sum(r.accuracy * r.n for r in train) / n if n else 0.0


def ranked(
    records: list[EvalRecord],
    objective: Objective,
    pessimism: float = SELECTION_Z,
    stats: dict[str, GraphStats] | None = None,
) -> list[tuple[str, float]]:
    """(hash, shrunk pessimistic training objective), best first; ties go to the graph seen first.
    `stats`: `pooled(records)` when the caller has it already."""
    stats = {h: s for h, s in (pooled(records) if stats is None else stats).items() if s.n > 0}
    prior = prior_accuracy(records)
    scored = [(h, s.shrunk_objective(objective, prior, pessimism), s.first_seq) for h, s in stats.items()]
    scored.sort(key=lambda t: (-t[1], t[2]))
    return [(h, v) for h, v, _ in scored]


def best(records: list[EvalRecord], objective: Objective) -> tuple[str | None, float | None]:
    order = ranked(records, objective)
    return order[0] if order else (None, None)
