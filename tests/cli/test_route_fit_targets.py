"""`route fit`'s targets: a missed --target-accuracy names the figure it was compared with (the best fit accuracy
after the winner's-curse guard, beside the unguarded one) in digits that never read as the target, and a
non-finite --target-flops is refused as such."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.cascade import Chain, Point
from rolegraph.optimize.route_fit import select
from tests.cli.support import cli

N = 1000


def _point(index: int, scores: np.ndarray, flops: float) -> Point:
    return Point(
        chain=Chain(stages=(index,), rules=()),
        accuracy=float(scores.mean()),
        flops_units=flops,
        dollars=0.0,
        latency_s=0.0,
        shares=[1.0],
        scores=scores,
        flops=np.full(len(scores), flops),
    )


def test_a_missed_target_quotes_the_guarded_best_with_its_z_and_the_unguarded_one():
    best = np.zeros(N)
    best[:600] = 1.0  # the best graph: 0.600
    other = best.copy()
    other[600:700] = 1.0  # 0.700 raw, differing from the best graph on 100 items
    points = [_point(0, best, 10.0), _point(1, other, 20.0)]
    z = 2.0
    lowered = 0.7 - z * float((other - best).std(ddof=1)) / math.sqrt(N)  # 0.68102
    with pytest.raises(SearchError) as exc:
        select(points, None, 0.69, points[0], z)
    msg = str(exc.value)
    assert "winner's curse" in msg and "z = 2" in msg
    assert f"{lowered:.3f}" in msg and "0.700" in msg and "0.690" in msg


def test_target_and_best_never_read_as_equal():
    near = np.zeros(100000)
    near[:65277] = 1.0  # 0.65277: at 3 decimals both it and a 0.6528 target read 0.653
    points = [_point(0, near, 10.0)]
    with pytest.raises(SearchError) as exc:
        select(points, None, 0.6528, points[0], 0.0)
    msg = str(exc.value)
    assert "0.65280" in msg and "0.65277" in msg


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_non_finite_target_flops_is_refused_in_one_line(value, tmp_path, capsys):
    code, _, err = cli(["route", "fit", tmp_path, "--target-flops", value], capsys)
    assert code == 2
    assert err.strip().splitlines() == [f"error: --target-flops must be positive and finite, got {value}"]
