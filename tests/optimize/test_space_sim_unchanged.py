"""Keeping graphs within their models' context windows changes no simulated search: the sim pool's models declare
131,072 tokens, so the ensemble spaces the search benchmarks use (gsm's math family, budgets 18/30/42 FLOPs units)
hold exactly the graphs they held before the window check. The counts were taken by enumerating those spaces with
the code before the check (`git show HEAD:` of rolegraph, run in a scratch copy)."""
from __future__ import annotations

import pytest

from rolegraph.optimize.baselines.exhaustive import enumerate_graphs
from rolegraph.optimize.space import SearchSpace

from .conftest import SIM_MODELS

COUNTS_BEFORE = {18.0: 111, 30.0: 229, 42.0: 297}


@pytest.mark.parametrize(("budget", "count"), sorted(COUNTS_BEFORE.items()))
def test_default_sim_ensemble_spaces_hold_the_same_graphs(pool, budget, count):
    space = SearchSpace(pool=pool, models=SIM_MODELS, roles=("solver", "fuser"), max_nodes=6, budget=budget,
                        worker_edges=False, family="math")
    assert len(enumerate_graphs(space)) == count
