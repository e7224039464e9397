"""`Proposal`: one graph an optimizer asks the loop to score, and how to draw distinct ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from rolegraph.graphs.io import graph_hash
from rolegraph.graphs.isomorphism import Shape
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.choices import Choices
from rolegraph.optimize.probabilistic import ProbabilisticGraph

DEDUPE_DRAWS = 4
"""Draws per wanted graph when looking for distinct samples (a peaked distribution repeats itself)."""


@dataclass
class Proposal:
    graph: GraphSpec
    choices: Choices | None
    source: str = "sampled"
    meta: dict | None = None

    @property
    def hash(self) -> str:
        return graph_hash(self.graph)

    @property
    def structure(self) -> Shape:
        """Equal exactly for isomorphic proposals (the same graph in other slots): a Weisfeiler-Lehman
        hash picks the bucket, an isomorphism check decides, so colliding hashes are no false match."""
        return Shape(self.graph)


def distinct_samples(
    pg: ProbabilisticGraph,
    count: int,
    rng: np.random.Generator,
    seen: Iterable[Shape] | None = None,
    source: str = "sampled",
) -> list[Proposal]:
    """Up to `count` samples of distinct structures (none in `seen`, a set of `Proposal.structure`
    shapes), from a bounded number of draws: an isomorphic copy would be scored as the same graph."""
    taken = set(seen or ())
    out: list[Proposal] = []
    for _ in range(count * DEDUPE_DRAWS):
        if len(out) >= count:
            break
        c, spec = pg.sample_choices(rng)
        p = Proposal(spec, c, source)
        shape = p.structure
        if shape in taken:
            continue
        taken.add(shape)
        out.append(p)
    return out
