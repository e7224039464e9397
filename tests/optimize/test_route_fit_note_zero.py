"""route fit's note reads the paired 95% interval of (router - best graph): an interval with a bound exactly at 0
still contains 0 (the router is not shown less accurate, nor more), whichever bound it is."""
from __future__ import annotations

import pytest

from rolegraph.graphs.router import StopRule
from rolegraph.optimize import route_fit as rf
from rolegraph.optimize.cascade import Chain, Point

CHAIN = Chain(stages=(0, 1), rules=(StopRule(min_agreement=1.0),))
CHOSEN = Point(chain=CHAIN, accuracy=0.7, flops_units=5.0, dollars=0.0, latency_s=1.0, shares=[0.6, 0.4])


@pytest.mark.parametrize(
    ("diff", "verdict"),
    [
        ((0.05, 0.0, 0.10), "contains 0"),  # lower bound exactly 0
        ((-0.05, -0.10, 0.0), "contains 0"),  # upper bound exactly 0
        ((0.0, 0.0, 0.0), "contains 0"),  # no difference on any item
        ((0.05, 0.01, 0.10), "is above 0"),
        ((-0.05, -0.10, -0.01), "is below 0: the router is less accurate"),
    ],
)
def test_the_note_says_whether_the_interval_contains_0_at_its_bounds(diff, verdict):
    note = rf._note(CHOSEN, best_index=1, cands=[], ratio=0.5, diff=diff)
    assert f"(router - best graph) {verdict} (" in note
    assert "Stage 1 answers 60% of fit items" in note
