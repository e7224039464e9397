"""The router fit's guard against the winner's curse: paired standard errors and their cross-validated z."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rolegraph.graphs.router import StopRule
from rolegraph.optimize.cascade import Chain, Point
from rolegraph.optimize.route_fit import select
from rolegraph.optimize.route_guard import CV_FOLDS, FOLD_SEED, GUARD_ZS, calibrate, guarded, guarded_all

N_ITEMS = 300
BEST_FLOPS, CHEAP_FLOPS = 30.0, 10.0


def point(index: int, scores: np.ndarray, flops: float) -> Point:
    stages = (index,) if index == 0 else (index, 0)
    return Point(chain=Chain(stages=stages, rules=() if index == 0 else (StopRule(),)),
                 accuracy=float(scores.mean()), flops_units=flops, dollars=0.0, latency_s=0.0,
                 shares=[1.0], scores=scores.astype(float), flops=np.full(scores.size, flops))


def menu(seed: int, cheap: int, differ: float, cheap_accuracy: float) -> list[Point]:
    """The best graph (70%) and `cheap` cascades that answer like it except on a random `differ` share of the
    items, where they are right with `cheap_accuracy` (below 0.7: truly worse)."""
    rng = np.random.default_rng(seed)
    best = (rng.random(N_ITEMS) < 0.7).astype(float)
    out = [point(0, best, BEST_FLOPS)]
    for i in range(1, cheap + 1):
        scores = best.copy()
        mask = rng.random(N_ITEMS) < differ
        scores[mask] = rng.random(int(mask.sum())) < cheap_accuracy
        out.append(point(i, scores, CHEAP_FLOPS))
    return out


def test_guarded_lowers_by_paired_standard_errors_and_never_the_best_graph():
    best = point(0, np.array([1, 0, 1, 1] * 25), BEST_FLOPS)
    other_scores = best.scores.copy()
    other_scores[:10] = 1 - other_scores[:10]
    other = point(1, other_scores, CHEAP_FLOPS)
    sd = float((other.scores - best.scores).std(ddof=1))
    assert guarded(other, best, 2.0) == pytest.approx(other.accuracy - 2.0 * sd / 10.0)
    assert guarded(best, best, 2.0) == best.accuracy and guarded(best, best, math.inf) == best.accuracy
    assert guarded(other, best, math.inf) == -math.inf and guarded(other, best, 0.0) == other.accuracy


SEEDS = 30


@pytest.mark.parametrize("z", [0.0, 1.0, 2.0, math.inf])
def test_guarding_a_whole_menu_at_once_gives_each_points_own_figure(z):
    points = menu(seed=5, cheap=30, differ=0.3, cheap_accuracy=0.6)
    points.append(point(31, points[0].scores.copy(), CHEAP_FLOPS))  # never differs: kept even at z = inf
    assert guarded_all(points, points[0], z) == [guarded(p, points[0], z) for p in points]
    assert (guarded_all(points, points[0], z)[-1] == points[0].accuracy) and (z == 0 or min(guarded_all(points, points[0], z)) < min(p.accuracy for p in points))


def test_cross_validation_sees_the_winners_curse_and_raises_the_guard():
    """Hundreds of truly worse cascades (4.5 points below the best graph) over 30 draws of the fit items:
    unguarded, the fit nearly always picks one that was lucky on the fit items; cross-validation measures
    that pick held out, finds it below the tolerance and raises z, so a worse cascade is picked far less often.
    (Not never: 300 items are few, and the held-out estimate is noisy too.)"""
    tolerance = 0.01
    unguarded = guarded_picks = 0
    for seed in range(SEEDS):
        points = menu(seed=seed, cheap=400, differ=0.3, cheap_accuracy=0.55)
        goal = points[0].accuracy - tolerance
        unguarded += select(points, None, goal).chain.stages != (0,)
        guard = calibrate(points, 0, None, None, tolerance)
        assert guard.cv_diff is not None and guard.folds == 5
        guarded_picks += select(points, None, goal, points[0], guard.z).chain.stages != (0,)
    assert unguarded >= 25 and guarded_picks <= 10, (unguarded, guarded_picks)


def test_a_cascade_that_never_differs_from_the_best_graph_is_kept():
    """A cheap cascade with the best graph's answers on every item: no curse to guard against."""
    points = menu(seed=2, cheap=50, differ=0.3, cheap_accuracy=0.45)
    points.append(point(len(points), points[0].scores.copy(), CHEAP_FLOPS - 1))
    guard = calibrate(points, 0, None, None, 0.01)
    chosen = select(points, None, points[0].accuracy - 0.01, points[0], guard.z)
    assert chosen.flops_units == CHEAP_FLOPS - 1 and guard.cv_flops_ratio == pytest.approx((CHEAP_FLOPS - 1) / BEST_FLOPS)


def test_too_few_items_to_cross_validate_leave_the_fit_unguarded():
    rng = np.random.default_rng(3)
    points = [point(0, (rng.random(20) < 0.7).astype(float), BEST_FLOPS),
              point(1, (rng.random(20) < 0.6).astype(float), CHEAP_FLOPS)]
    guard = calibrate(points, 0, None, None, 0.01)
    assert guard.z == 0 and guard.cv_diff is None and "too few" in guard.text()


def _on(p: Point, items: np.ndarray) -> Point:
    """`p` measured on `items` only."""
    s, f = p.scores[items], p.flops[items]
    return Point(chain=p.chain, accuracy=float(s.mean()), flops_units=float(f.mean()), dollars=0.0, latency_s=0.0,
                 shares=p.shares, scores=s, flops=f)


def _reference_rows(points: list[Point], target_flops: float | None, tolerance: float) -> list[tuple]:
    """Cross-validation spelled out: `route_fit.select` on each fold's training items, scored on the fold."""
    n = N_ITEMS
    fold = np.random.default_rng(FOLD_SEED).permutation(n) % CV_FOLDS
    rows = []
    for z in GUARD_ZS:
        diffs, ratios = [], []
        for k in range(CV_FOLDS):
            train, held = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
            sliced = [_on(p, train) for p in points]
            goal = sliced[0].accuracy - tolerance
            c = points[sliced.index(select(sliced, target_flops, goal, sliced[0], z))]
            diffs.append(float((c.scores[held] - points[0].scores[held]).mean()))
            ratios.append(float(c.flops[held].mean() / points[0].flops[held].mean()))
        rows.append((z, float(np.mean(diffs)), float(np.mean(ratios)), float(np.std(diffs, ddof=1) / CV_FOLDS**0.5)))
    return rows


@pytest.mark.parametrize("target_flops", [None, 20.0])
def test_cross_validation_from_fold_sums_matches_selecting_on_each_folds_items(target_flops):
    """calibrate sums each point's scores per fold once; what it measures must equal `select` run on each
    fold's training items and scored on the fold (cascades of varied FLOPs, so ties cannot hide a wrong pick)."""
    rng = np.random.default_rng(7)
    points = menu(seed=7, cheap=120, differ=0.25, cheap_accuracy=0.62)
    points = [points[0]] + [point(i, p.scores, CHEAP_FLOPS + rng.random() * 15) for i, p in enumerate(points[1:], 1)]
    rows = _reference_rows(points, target_flops, tolerance=0.01)
    guard = calibrate(points, 0, target_flops, None, 0.01)
    if target_flops is None:
        expected = next((r for r in rows if r[1] >= -0.01 - 1e-12), rows[-1])
    else:
        expected = max(rows, key=lambda r: (round(r[1], 9), -r[0]))
    assert (guard.z, guard.cv_diff, guard.cv_flops_ratio, guard.cv_se) == pytest.approx(expected)
    assert guard.cv_se > 0 and f"+- {guard.cv_se:.3f} (fold SE)" in guard.text()  # the output shows the spread
    assert len({round(r[1], 9) for r in rows}) > 1  # the z grid really chose between different routers
