"""The optimizer base class (optimize/base.py): a warm start adopts the earlier run's distribution only for a method
that keeps one and learns it (then the loop skips `start`, the pilot), and really adopts it; the space and the
distribution are errors to read before `bind`, not None."""
from __future__ import annotations

import pytest

from rolegraph.optimize.base import Optimizer

EARLIER = object()  # stands for the earlier run's ProbabilisticGraph, mapped onto this space
OWN = object()


class Keeps(Optimizer):
    name = "keeps"

    def __init__(self) -> None:
        super().__init__()
        self.pg = OWN


class Fixed(Keeps):
    name = "fixed"
    learns_distribution = False


class Without(Optimizer):
    name = "without"


def test_a_method_that_keeps_and_learns_a_distribution_adopts_the_earlier_one():
    opt = Keeps()
    assert opt.warm_start(EARLIER, []) is True
    assert opt.pg is EARLIER


@pytest.mark.parametrize(("opt", "pg"), [(Keeps(), None), (Fixed(), EARLIER), (Without(), EARLIER)],
                         ids=["nothing-given", "fixed-by-design", "keeps-none"])
def test_otherwise_nothing_is_adopted_and_the_pilot_still_runs(opt, pg):
    before = getattr(opt, "pg", None)
    assert opt.warm_start(pg, []) is False
    assert getattr(opt, "pg", None) is before


def test_space_and_distribution_before_bind_are_errors():
    opt = Without()
    with pytest.raises(RuntimeError, match="used before bind"):
        _ = opt.space
    with pytest.raises(RuntimeError, match="has no distribution before bind"):
        _ = opt.bound_pg


def test_bind_keeps_the_space_and_the_seed_the_methods_draw_with():
    opt, space = Without(), object()
    opt.bind(space, 17)
    assert opt.space is space and opt.seed == 17


def test_only_a_method_that_says_so_scores_every_iteration_on_the_same_items():
    from rolegraph.optimize.baselines.exhaustive import ExhaustiveSearch

    assert Without.fixed_batch is False  # a new batch each iteration unless the method asks otherwise
    assert ExhaustiveSearch.fixed_batch is True
