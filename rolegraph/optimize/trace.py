"""`SearchTrace`: every evaluation a search paid for, what each iteration concluded, and the pooled
per-graph statistics that choose the best graph.

A graph evaluated several times (re-sampled, proposed again, re-checked on validation items) is
judged on all its items together. Ranking uses a shrunk accuracy (pulled toward the search's mean
by `PRIOR_ITEMS` pseudo-items) so a lucky graph scored on one small batch does not beat a graph
that held up over several batches: the winner's curse of picking a max over noisy scores. The
prior's weight is empirical-Bayes sized: accuracies of different graphs spread by about 0.1, and
p(1-p)/0.1^2 is about 24 items at p near 0.5.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from rolegraph.evaluate.result import NodeStats
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.choices import Choices
from rolegraph.optimize.objectives import Objective

Phase = Literal["pilot", "search", "validation", "test", "single"]
CHARGED_PHASES = frozenset({"pilot", "search", "validation"})
"""Phases whose item runs count against the search's evaluation budget (test runs only report)."""
PRIOR_ITEMS = 24.0


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
    simulated: bool = False


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
    attempts: int = 1


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
        return self.record.graph_hash


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

    def add(self, r: EvalRecord) -> None:
        if r.phase == "validation":
            self.validation_n += r.n
            self.validation_correct += r.accuracy * r.n
            self.validation_latency_sum += r.latency_s * r.n
            self.validation_dollars_sum += r.dollars * r.n
            return
        self.n += r.n
        self.correct += r.accuracy * r.n
        self.latency_sum += r.latency_s * r.n
        self.dollars_sum += r.dollars * r.n

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def latency(self) -> float:
        return self.latency_sum / self.n if self.n else 0.0

    @property
    def dollars(self) -> float:
        return self.dollars_sum / self.n if self.n else 0.0

    def objective(self, objective: Objective) -> float:
        return objective.value(self.accuracy, self.latency, self.dollars)

    def shrunk_objective(self, objective: Objective, prior_accuracy: float) -> float:
        acc = (self.correct + PRIOR_ITEMS * prior_accuracy) / (self.n + PRIOR_ITEMS)
        return objective.value(acc, self.latency, self.dollars)

    def combined_objective(self, objective: Objective, prior_accuracy: float) -> float:
        """Training and validation items together, shrunk: the final choice among re-checked candidates."""
        n = self.n + self.validation_n
        acc = (self.correct + self.validation_correct + PRIOR_ITEMS * prior_accuracy) / (n + PRIOR_ITEMS)
        latency = (self.latency_sum + self.validation_latency_sum) / n if n else 0.0
        dollars = (self.dollars_sum + self.validation_dollars_sum) / n if n else 0.0
        return objective.value(acc, latency, dollars)

    def validation_objective(self, objective: Objective) -> float | None:
        if not self.validation_n:
            return None
        n = self.validation_n
        return objective.value(self.validation_correct / n, self.validation_latency_sum / n,
                               self.validation_dollars_sum / n)


def pooled(records: list[EvalRecord]) -> dict[str, GraphStats]:
    """GraphStats per hash over charged records (pilot and search pooled; validation kept apart)."""
    stats: dict[str, GraphStats] = {}
    for r in records:
        if r.phase not in CHARGED_PHASES:
            continue
        if r.graph_hash not in stats:
            stats[r.graph_hash] = GraphStats(r.graph_hash, first_seq=r.seq)
        stats[r.graph_hash].add(r)
    return stats


def prior_accuracy(records: list[EvalRecord]) -> float:
    """Item-weighted mean accuracy of the training-side evaluations (the shrinkage target)."""
    train = [r for r in records if r.phase in ("pilot", "search")]
    n = sum(r.n for r in train)
    return sum(r.accuracy * r.n for r in train) / n if n else 0.0


def ranked(records: list[EvalRecord], objective: Objective) -> list[tuple[str, float]]:
    """(hash, shrunk training objective), best first; ties go to the graph seen first."""
    stats = {h: s for h, s in pooled(records).items() if s.n > 0}
    prior = prior_accuracy(records)
    scored = [(h, s.shrunk_objective(objective, prior), s.first_seq) for h, s in stats.items()]
    scored.sort(key=lambda t: (-t[1], t[2]))
    return [(h, v) for h, v, _ in scored]


def best(records: list[EvalRecord], objective: Objective) -> tuple[str | None, float | None]:
    order = ranked(records, objective)
    return order[0] if order else (None, None)
