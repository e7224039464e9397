"""How dollars are written (`rolegraph.money`, one rule for every layer): significant figures under a dollar, so
`validate`'s one-line summary never shows a sim graph's estimated cost as "$0.0000"."""
from __future__ import annotations

from pathlib import Path

import pytest

from rolegraph.graphs.analysis import MATH_PROFILE, estimate_cost, summary
from rolegraph.graphs.io import load_graph
from rolegraph.models.pool import ModelPool
from rolegraph.money import money

EXAMPLES = Path(__file__).parents[2] / "examples" / "graphs"


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0.0, "$0"), (0.0000461, "$0.0000461"), (0.002345, "$0.00234"), (0.5, "$0.50"), (12.345, "$12.35"),
     (-0.0031, "-$0.0031")],
)
def test_money_keeps_significant_figures(amount, text):
    assert money(amount) == text


def test_validates_line_never_shows_a_nonzero_cost_as_zero():
    spec = load_graph(EXAMPLES / "single.yaml")  # one sim 3B solver: a few hundred-thousandths of a dollar
    pool = ModelPool.builtin()
    cost = float(estimate_cost(spec, pool, MATH_PROFILE)["cost_usd"])
    assert 0 < cost < 1e-4
    line = summary(spec, pool, MATH_PROFILE).line()
    assert "$0.0000 " not in line and f"~{money(cost)} per run" in line
