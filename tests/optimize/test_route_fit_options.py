"""`fit_route`'s options are checked before any work, from the Python API as from the CLI."""
from __future__ import annotations

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.route_fit import MAX_STAGES, fit_route
from rolegraph.optimize.route_options import STAGES_LIMIT, check_options


@pytest.mark.parametrize(("tolerance", "max_stages", "message"), [
    (-1.0, MAX_STAGES, "--tolerance is an accuracy drop in [0, 1], got -1"),
    (1.5, MAX_STAGES, "--tolerance is an accuracy drop in [0, 1], got 1.5"),
    (0.01, STAGES_LIMIT + 1, f"--max-stages must be 1 to {STAGES_LIMIT}, got {STAGES_LIMIT + 1}"),
    (0.01, 0, f"--max-stages must be 1 to {STAGES_LIMIT}, got 0"),
])
def test_bad_options_are_refused_before_the_run_is_read(tmp_path, tolerance, max_stages, message):
    with pytest.raises(SearchError) as info:
        fit_route(tmp_path / "no-such-run", tolerance=tolerance, max_stages=max_stages)
    assert str(info.value).startswith(message)


def test_the_limit_is_the_default_and_good_options_pass():
    assert STAGES_LIMIT == MAX_STAGES == 3
    for stages in range(1, STAGES_LIMIT + 1):
        check_options(None, None, 0.0, stages)
    check_options(5.0, None, 1.0, 1)
