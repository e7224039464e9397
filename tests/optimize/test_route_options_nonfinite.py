"""`check_options` (what `route fit` checks first) refuses a NaN or infinite `target_flops` from Python too."""
from __future__ import annotations

import math

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.route_options import check_options


@pytest.mark.parametrize("flops", [math.nan, math.inf, -math.inf, 0.0, -1.0])
def test_a_target_flops_that_is_not_positive_and_finite_is_refused(flops):
    with pytest.raises(SearchError, match="--target-flops must be positive and finite"):
        check_options(flops, None, 0.01, 2)


def test_a_finite_positive_target_flops_passes():
    check_options(3.5, None, 0.01, 2)
    check_options(None, 0.5, 0.01, 2)
