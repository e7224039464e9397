"""Distinct samples: an isomorphic copy is a duplicate, a graph that only shares a hash bucket is not."""
from __future__ import annotations

import numpy as np

from rolegraph.graphs.isomorphism import isomorphic
from rolegraph.optimize.choices import Choices, from_graph
from rolegraph.optimize.probabilistic import Logits, ProbabilisticGraph
from rolegraph.optimize.proposal import Proposal, distinct_samples
from rolegraph.optimize.space import SearchSpace

from ..graphs.wl_twins import MODELS, ROLES, wl_twins

SURE = 40.0  # a logit this far from 0 makes a draw certain


def peaked(space: SearchSpace, c: Choices) -> ProbabilisticGraph:
    """A distribution that draws `c` every time."""
    pg = ProbabilisticGraph(space)
    ind = pg.indicators(c)
    return ProbabilisticGraph(space, Logits(*((2 * a - 1) * SURE for a in ind.arrays())))


def twin_space(pool) -> SearchSpace:
    a, _ = wl_twins()
    return SearchSpace(pool=pool, models=MODELS, roles=ROLES, max_nodes=len(a.nodes), budget=None)


def test_a_graph_sharing_only_the_hash_bucket_with_a_seen_one_is_still_sampled(pool):
    a, b = wl_twins()
    space = twin_space(pool)
    pg = peaked(space, from_graph(space, b))
    got = distinct_samples(pg, 1, np.random.default_rng(0), {Proposal(a, None).structure})
    assert len(got) == 1 and isomorphic(got[0].graph, b)
    again = distinct_samples(pg, 1, np.random.default_rng(0), {Proposal(b, None).structure})
    assert again == []  # an isomorphic copy of a seen graph is a duplicate
