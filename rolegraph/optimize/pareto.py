"""The Pareto front of (accuracy up, latency down, dollars down) over every graph a search scored."""

from __future__ import annotations

from pydantic import BaseModel

from rolegraph.optimize.trace import EvalRecord, pooled


class ParetoPoint(BaseModel):
    graph_hash: str
    accuracy: float  # batch-difficulty-adjusted (what the front is drawn on)
    latency_s: float
    dollars: float
    n: int
    raw_accuracy: float | None = None  # as scored on its n training items


def dominates(a: ParetoPoint, b: ParetoPoint) -> bool:
    """a is at least as good on all three and strictly better on one."""
    ge = a.accuracy >= b.accuracy and a.latency_s <= b.latency_s and a.dollars <= b.dollars
    gt = a.accuracy > b.accuracy or a.latency_s < b.latency_s or a.dollars < b.dollars
    return ge and gt


def points(records: list[EvalRecord]) -> list[ParetoPoint]:
    """One point per graph: its pooled training statistics (pilot and search items)."""
    return [
        ParetoPoint(
            graph_hash=h,
            accuracy=s.accuracy,
            latency_s=s.latency,
            dollars=s.dollars,
            n=s.n,
            raw_accuracy=s.raw_accuracy,
        )
        for h, s in pooled(records).items()
        if s.n > 0
    ]


def front(pts: list[ParetoPoint]) -> list[ParetoPoint]:
    """The non-dominated points, by accuracy (best first)."""
    keep = [p for p in pts if not any(dominates(q, p) for q in pts if q is not p)]
    return sorted(keep, key=lambda p: (-p.accuracy, p.latency_s, p.dollars, p.graph_hash))
