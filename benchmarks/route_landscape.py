"""What a router at the FLOPs line could do on a world, apart from how well `route fit` picks one.

A GSM8K-check miss has two possible causes: `route fit` picked a poor chain from its few hundred fit items,
or no chain of the run's candidates reaches the line at that accuracy (the landscape). To tell them apart,
every candidate `route fit` saw is scored on fresh items the run never saw (by default 1,000), every chain
and stop rule `route fit` considers is scored on them, and the chains are **cross-fitted**: the most
accurate chain within the FLOPs line is picked on one half of the items and judged on the other, both ways.
Picking among ~1e5 chains on a few hundred items is a lottery (on the half it was picked on a chain looks
several points better than it is), so the judged half, not the picked one, says what the landscape offers.
A world whose cross-fitted chain is more than the accuracy line below the best graph is one where even
picking on half the fresh items (500 by default; route fit has ~300) does not reach the line: the miss is
the world's, not the fit's. The figure is itself a draw: on 500 judged items a chain that answers
differently from the best graph on many items has a paired standard error of about 2 points (about 1.4
for the mean of both ways).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

HALVES = 2


def cross_fit(acc: np.ndarray, flops: np.ndarray, best: int, line: float) -> dict[str, float]:
    """`acc[c, h]`, `flops[c, h]`: chain c's mean score and FLOPs on half h. For each half, the most accurate
    chain within `line` x the best chain's FLOPs on that half is judged on the other half; the result is the
    mean over both directions of its accuracy minus the best chain's (points) and its FLOPs over the best's.
    When no chain is within the line on a half, the cheapest is taken (its ratio then shows it is over)."""
    diffs, ratios, picked = [], [], []
    for h in range(HALVES):
        other = 1 - h
        within = np.flatnonzero(flops[:, h] <= line * flops[best, h] + 1e-9)
        c = int(within[np.argmax(acc[within, h])]) if within.size else int(np.argmin(flops[:, h]))
        picked.append(100 * (acc[c, h] - acc[best, h]))
        diffs.append(100 * (acc[c, other] - acc[best, other]))
        ratios.append(flops[c, other] / flops[best, other])
    return {"diff": float(np.mean(diffs)), "ratio": float(np.mean(ratios)), "picked_diff": float(np.mean(picked))}


def half_means(outcomes: list, costs: Any, max_stages: int) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    """Every chain `route fit` would score (route_fit.point_batches), reduced batch by batch to its mean score
    and FLOPs on each half of the items (first half, second half): a chain's per-item arrays over 1,000 items
    for ~1e5 chains would not fit in memory together."""
    from rolegraph.optimize.route_fit import point_batches

    half = np.arange(outcomes[0].n) < outcomes[0].n // 2
    acc, flops, chains = [], [], []
    for batch in point_batches(outcomes, costs, max_stages):
        for p in batch:
            acc.append((p.scores[half].mean(), p.scores[~half].mean()))
            flops.append((p.flops[half].mean(), p.flops[~half].mean()))
            chains.append(p.chain.stages)
    return np.array(acc), np.array(flops), chains


async def landscape(run: Path, items: list, task: Any, hub: Any, pool: Any, line: float) -> dict[str, float]:
    """Score every candidate of the run's route fit on `items` with `hub`, add their plurality stages as
    `route fit` does, and cross-fit the chains at `line` x the best graph's FLOPs (see the module doc)."""
    from rolegraph.evaluate.runner import evaluate
    from rolegraph.graphs.analysis import TOKEN_PROFILES
    from rolegraph.optimize.cascade import CascadeCosts, Outcomes, plurality_sets
    from rolegraph.optimize.route_fit import MAX_STAGES, load_outcomes

    fit, test = load_outcomes(run)
    seen = [o for o, t in zip(fit, test) if t is not None]  # route fit's candidates: those with test outcomes
    outcomes = [Outcomes(o.name, o.source, o.spec, await evaluate(o.spec, task, items, hub=hub, progress=False))
                for o in seen]
    profile = TOKEN_PROFILES.get(task.family, TOKEN_PROFILES["math"])
    outcomes += [p for (p,) in plurality_sets((list(outcomes),), pool, profile)]
    best = next(i for i, o in enumerate(outcomes) if o.source == "best")
    acc, flops, chains = half_means(outcomes, CascadeCosts(outcomes, pool, profile), MAX_STAGES)
    return {**cross_fit(acc, flops, chains.index((best,)), line), "chains": len(chains), "items": len(items)}
