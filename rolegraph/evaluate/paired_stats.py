"""Paired comparisons of two evaluations on the items both scored: the difference, its bootstrap interval and
McNemar's test (`rolegraph eval --compare`, `rolegraph.evaluate.compare`).

Kept apart from the tables that print them (`rolegraph.evaluate.report`): the statistics are used from Python
without any rendering, and the tables change for terminals, not for the numbers.
"""

from __future__ import annotations

from pydantic import BaseModel

from rolegraph.errors import RolegraphError
from rolegraph.evaluate.result import EvalResult
from rolegraph.evaluate.stats import DEFAULT_BOOTSTRAP, mcnemar, paired_bootstrap
from rolegraph.models.provenance import REAL, Simulation, combine


class Comparison(BaseModel):
    """`other` against `base` on the items both scored: difference other - base, with tests."""

    base: str
    other: str
    n: int
    mean_diff: float
    ci95: tuple[float, float]
    p_bootstrap: float
    b01: int  # base wrong, other right
    b10: int  # base right, other wrong
    p_mcnemar: float
    simulated: bool  # both sides fully simulated
    simulation: Simulation = REAL  # the two sides' label together


def paired_scores(a: EvalResult, b: EvalResult) -> tuple[list[float], list[float]]:
    """Scores of the items both results hold, paired by item id (in `a`'s order). An id repeated in a result (a
    Python `Task` may give one twice; file tasks renumber repeats) pairs its k-th run in `a` with its k-th in
    `b`, so the pairing never depends on the order either result lists its items in."""
    if [it.item_id for it in a.items] == [it.item_id for it in b.items]:
        return [it.score for it in a.items], [it.score for it in b.items]
    b_by_id: dict[str, list[float]] = {}
    for it in b.items:
        b_by_id.setdefault(it.item_id, []).append(it.score)
    seen: dict[str, int] = {}
    pairs = []
    for it in a.items:
        k = seen[it.item_id] = seen.get(it.item_id, -1) + 1
        scores = b_by_id.get(it.item_id, [])
        if k < len(scores):
            pairs.append((it.score, scores[k]))
    return [p[0] for p in pairs], [p[1] for p in pairs]


def compare(
    base: EvalResult,
    other: EvalResult,
    *,
    base_name: str | None = None,
    other_name: str | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
) -> Comparison:
    """`other` against `base` on the items both scored, paired by item id.

    Results of different tasks, or with no item in common, have nothing to pair: a Comparison of n=0 would
    read like a tie (difference 0, p=1), so both are one-line errors instead."""
    if base.task != other.task:
        raise RolegraphError(
            f"cannot compare results of different tasks: '{base.task}' ({base.graph_name}) and "
            f"'{other.task}' ({other.graph_name})"
        )
    a, b = paired_scores(base, other)
    if not a:
        raise RolegraphError(
            f"cannot compare {base.graph_name} and {other.graph_name}: they have no item in common "
            "(evaluate both on the same items, e.g. the same --n and --seed)"
        )
    diff, lo, hi, p_boot = paired_bootstrap(a, b, n_boot=n_boot, seed=seed)
    b01, b10, p_mc = mcnemar(a, b)
    return Comparison(
        base=base_name or base.graph_name,
        other=other_name or other.graph_name,
        n=len(a),
        mean_diff=diff,
        ci95=(lo, hi),
        p_bootstrap=p_boot,
        b01=b01,
        b10=b10,
        p_mcnemar=p_mc,
        simulated=base.simulated and other.simulated,
        simulation=combine([base.simulation, other.simulation]) or REAL,
    )
