"""How much to distrust a router's fit: the guard against the winner's curse, calibrated by cross-validation.

`route fit` picks one of thousands of chains (graphs x stop rules) by its accuracy on a few hundred fit
items. The chain picked is the one whose luck on those items was best: measured on sim worlds 0-5 (a search
at budget 42, 288 fit items), the unguarded default router was within a point of the best graph on its fit
items and more than 2 points below it on 1,000 GSM8K items in 4 of the 6 worlds (up to 5.7; guarded: 1 of
6, 3.4). Two pieces guard against that:

- `guarded`: a chain's fit accuracy less z paired standard errors of (chain - best graph) on the same
  items. A chain that answers differently from the best graph on many items has a noisy difference and
  must clear a higher bar; the best graph itself (difference 0) is never lowered.
- `calibrate`: z is chosen by K-fold cross-validation of the whole selection: for each z of a grid, the
  chain is selected on K-1 folds (rule and target as in the fit) and its paired difference to the best
  graph measured on the fold left out. The smallest z whose cross-validated router keeps the target
  (within the tolerance of the best graph, or the accuracy asked; with a FLOPs target, the most
  accurate) wins; z = inf (only chains that never differ from the best graph) always keeps it.

The cross-validated difference is itself a draw from the fit's items, so `Guard` carries its standard error
over the folds (`cv_se`) and the output shows it. Measured on sim worlds 0-11 (BENCHMARKS.md, GSM8K check):
fitted on 288 fresh items of world 1 and judged on the other 712, the default selection was -4.5 or +3.1
points against the best graph depending only on which 288 items it saw; over 12 worlds, 5 of 24 such fits
were more than 2 points below it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rolegraph.optimize.cascade import Point

GUARD_ZS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf)
"""The z values cross-validation chooses among (inf: the best graph or chains identical to it on every item)."""
CV_FOLDS = 5
FOLD_SEED = 0
"""Seed of the items' fold assignment (a fit is deterministic)."""
MIN_FOLD_ITEMS = 10
"""Fewer fit items per fold than this: no cross-validation, z = 0 (the fit as it was)."""
EPS = 1e-12


@dataclass
class Guard:
    """The chosen z and what cross-validation measured for it (None: too few items to cross-validate)."""

    z: float
    cv_diff: float | None = None  # mean held-out (router - best graph) accuracy
    cv_flops_ratio: float | None = None  # mean held-out router FLOPs / best graph's
    folds: int = 0
    cv_se: float | None = None  # standard error of cv_diff over the folds: how far to trust it

    def text(self) -> str:
        if self.cv_diff is None:
            return "no guard (too few fit items to cross-validate)"
        z = "inf (the best graph's answers only)" if math.isinf(self.z) else f"{self.z:g}"
        spread = f" +- {self.cv_se:.3f} (fold SE)" if self.cv_se is not None else ""
        return (
            f"guard z = {z} paired SE, chosen by {self.folds}-fold cross-validation of the fit: held out, the "
            f"chosen rule's router was {self.cv_diff:+.3f}{spread} vs the best graph at {self.cv_flops_ratio:.2f}x "
            "its FLOPs"
        )


def guarded(p: Point, best: Point, z: float) -> float:
    """`p`'s fit accuracy less `z` paired standard errors of (p - best)."""
    n = len(p.scores)
    if z <= 0 or n < 2 or len(best.scores) != n:
        return p.accuracy
    sd = float((p.scores - best.scores).std(ddof=1))
    if math.isinf(z):
        return p.accuracy if sd == 0 else -math.inf
    return p.accuracy - z * sd / math.sqrt(n)


def guarded_all(points: list[Point], best: Point, z: float) -> list[float]:
    """`guarded` of every point (the same figures), their standard deviations taken a chunk of rows at a time:
    one numpy call per point took a sixth of `route fit`'s time on a search's front."""
    n = len(best.scores)
    if z <= 0 or n < 2 or any(len(p.scores) != n for p in points):
        return [guarded(p, best, z) for p in points]
    out: list[float] = []
    for lo in range(0, len(points), ROW_CHUNK):
        chunk = points[lo : lo + ROW_CHUNK]
        sd = (np.stack([p.scores for p in chunk]) - best.scores).std(axis=1, ddof=1)
        for p, s in zip(chunk, sd.tolist()):
            if math.isinf(z):
                out.append(p.accuracy if s == 0 else -math.inf)
            else:
                out.append(p.accuracy - z * s / math.sqrt(n))
    return out


ROW_CHUNK = 4096
"""Points stacked at a time when summing per fold (bounds the memory of a fit over ~1e5 chains)."""


class _FoldSums:
    """Per point and fold: the sums of scores, FLOPs and squared differences to the best graph.

    Selecting on K-1 folds then needs only (total - fold k) of each sum, not a pass over every chain's items:
    one pass over the points serves every fold and every z (the pass over item slices it replaces took most of
    `route fit`'s time on a search's front).
    """

    def __init__(self, points: list[Point], best_index: int, fold: np.ndarray, folds: int):
        onehot = np.zeros((fold.size, folds))
        onehot[np.arange(fold.size), fold] = 1.0
        best = np.asarray(points[best_index].scores, dtype=float)
        parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
        for lo in range(0, len(points), ROW_CHUNK):
            chunk = points[lo : lo + ROW_CHUNK]
            s = np.stack([p.scores for p in chunk]).astype(float)
            d = s - best
            parts[0].append(s @ onehot)
            parts[1].append(np.stack([p.flops for p in chunk]).astype(float) @ onehot)
            parts[2].append((d * d) @ onehot)
        self.score, self.flops, self.sq = (np.concatenate(x) for x in parts)
        self.count = onehot.sum(axis=0)
        self.stages = np.array([len(p.chain.stages) for p in points])
        self.best = best_index

    def held(self, c: int, k: int) -> tuple[float, float]:
        """Point `c` on fold `k`: (its accuracy - the best graph's, its FLOPs / the best graph's)."""
        n = self.count[k]
        diff = float(self.score[c, k] - self.score[self.best, k]) / n
        best_flops = float(self.flops[self.best, k])
        return diff, float(self.flops[c, k]) / best_flops if best_flops else 1.0

    def select(self, k: int, z: float, target_flops: float | None, target: float | None, tolerance: float) -> int:
        """The point `select` would choose on every fold but `k` (target: accuracy asked, else best's - tolerance)."""
        n = float(self.count.sum() - self.count[k])
        ssum = self.score.sum(axis=1) - self.score[:, k]
        acc, fl = ssum / n, (self.flops.sum(axis=1) - self.flops[:, k]) / n
        dsum = ssum - ssum[self.best]
        sq = self.sq.sum(axis=1) - self.sq[:, k]
        sd = np.sqrt(np.maximum(sq - dsum * dsum / n, 0.0) / (n - 1))
        if math.isinf(z):
            score = np.where(sq == 0, acc, -np.inf)  # a sum of squares is 0 only when every difference is
        else:
            score = acc - z * sd / math.sqrt(n)
        if target_flops is not None:
            ok = np.flatnonzero(fl <= target_flops + 1e-9)
            if ok.size == 0:
                return self.best
            order = np.lexsort((-self.stages[ok], fl[ok], -score[ok]))  # last key first: score, then FLOPs
            return int(ok[order[0]])
        goal = target if target is not None else acc[self.best] - tolerance
        ok = np.flatnonzero(score >= goal - EPS)
        if ok.size == 0:
            return self.best
        order = np.lexsort((self.stages[ok], -score[ok], fl[ok]))  # least FLOPs, then score, then fewer stages
        return int(ok[order[0]])


def calibrate(
    points: list[Point],
    best_index: int,
    target_flops: float | None,
    target_accuracy: float | None,
    tolerance: float,
    folds: int = CV_FOLDS,
) -> Guard:
    """Choose z by cross-validating the selection (see the module doc)."""
    n = len(points[best_index].scores)
    if n < folds * MIN_FOLD_ITEMS:
        return Guard(z=0.0)
    fold = np.random.default_rng(FOLD_SEED).permutation(n) % folds
    m = _FoldSums(points, best_index, fold, folds)
    rows = []
    for z in GUARD_ZS:
        diffs, ratios = [], []
        for k in range(folds):
            diff, ratio = m.held(m.select(k, z, target_flops, target_accuracy, tolerance), k)
            diffs.append(diff)
            ratios.append(ratio)
        w = m.count / m.count.sum()
        se = float(np.std(diffs, ddof=1) / math.sqrt(folds))
        rows.append((z, float(np.dot(w, diffs)), float(np.dot(w, ratios)), se))
    if target_flops is not None:
        z, diff, ratio, se = max(rows, key=lambda r: (round(r[1], 9), -r[0]))  # most accurate held out; ties: less z
    else:
        need = (target_accuracy - float(m.score[best_index].sum() / n)) if target_accuracy is not None else -tolerance
        z, diff, ratio, se = next((r for r in rows if r[1] >= need - EPS), rows[-1])
    return Guard(z=z, cv_diff=diff, cv_flops_ratio=ratio, folds=folds, cv_se=se)
