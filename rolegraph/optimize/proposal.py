"""`Proposal`: one graph an optimizer asks the loop to score, and how to draw distinct ones."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rolegraph.graphs.io import graph_hash
from rolegraph.graphs.isomorphism import structure_key
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
    def structure(self) -> str:
        """Equal for isomorphic proposals (the same graph in other slots)."""
        return structure_key(self.graph)


def distinct_samples(
    pg: ProbabilisticGraph, count: int, rng: np.random.Generator, seen: set[str] | None = None, source: str = "sampled"
) -> list[Proposal]:
    """Up to `count` samples of distinct structures (none in `seen`, a set of `Proposal.structure`
    keys), from a bounded number of draws: an isomorphic copy would be scored as the same graph."""
    taken = set(seen or ())
    out: list[Proposal] = []
    for _ in range(count * DEDUPE_DRAWS):
        if len(out) >= count:
            break
        c, spec = pg.sample_choices(rng)
        p = Proposal(spec, c, source)
        h = p.structure
        if h in taken:
            continue
        taken.add(h)
        out.append(p)
    return out
