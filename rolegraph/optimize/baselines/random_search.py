"""Random search: K fresh graphs per iteration from the space's uniform (initial) distribution."""

from __future__ import annotations

import numpy as np

from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.proposal import Proposal, distinct_samples
from rolegraph.optimize.space import SearchSpace


class RandomSearch(Optimizer):
    name = "random"
    learns_distribution = False

    def __init__(self) -> None:
        super().__init__()
        self.pg: ProbabilisticGraph | None = None

    def bind(self, space: SearchSpace, seed: int) -> None:
        super().bind(space, seed)
        self.pg = ProbabilisticGraph(space)

    def distribution(self) -> ProbabilisticGraph | None:
        return self.pg

    def propose(self, iteration: int, count: int, rng: np.random.Generator) -> list[Proposal]:
        return distinct_samples(self.bound_pg, count, rng)
