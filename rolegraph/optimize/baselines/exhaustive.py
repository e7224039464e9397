"""Exhaustive search: every distinct graph of a small space, each scored on the same items.

Graphs are enumerated by worker count, then multisets of (model, role) labels, then edge subsets,
then the output's label; isomorphic duplicates (same graph, slots renamed) are dropped, as are
graphs over the budget (no repair: repair would only map them onto graphs already listed). This
is the ground truth the search-efficiency benchmark compares the other optimizers against. Candidates are
bucketed by a Weisfeiler-Lehman hash, then checked for isomorphism (`graphs.isomorphism`).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from rolegraph.errors import SearchError
from rolegraph.graphs.isomorphism import StructureIndex
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.choices import Choices, edge_pairs, realise
from rolegraph.optimize.proposal import Proposal
from rolegraph.optimize.space import SearchSpace

RAW_LIMIT = 200_000
"""Candidate combinations examined at most; a larger space is refused with its size."""


def raw_size(space: SearchSpace) -> int:
    labels = len(space.models) * len(space.worker_roles)
    out_labels = len(space.models) * len(space.output_roles)
    total = 0
    for k in range(space.worker_slots + 1):
        inner = k * (k - 1) // 2 if space.worker_edges else 0
        total += math.comb(labels + k - 1, k) * 2 ** (inner + k) * out_labels
    return total


def enumerate_graphs(space: SearchSpace, limit: int = RAW_LIMIT) -> list[tuple[Choices, GraphSpec]]:
    """Every distinct in-budget graph of `space` (see the module docstring), in a stable order."""
    size = raw_size(space)
    if size > limit:
        raise SearchError(
            f"the space has ~{size:,} candidate graphs, too many to enumerate (limit {limit:,}): "
            "lower max nodes, models or roles, or disallow worker-to-worker edges"
        )
    w = space.worker_slots
    pairs = edge_pairs(w, space.worker_edges)
    labels = [(m, r) for m in range(len(space.models)) for r in range(len(space.worker_roles))]
    out_labels = [(m, r) for m in range(len(space.models)) for r in range(len(space.output_roles))]
    index = StructureIndex()
    found: list[tuple[Choices, GraphSpec]] = []
    for k in range(w + 1):
        inner = [p for p in pairs if p[1] < k]
        for labs in itertools.combinations_with_replacement(labels, k):
            for inner_bits in itertools.product((False, True), repeat=len(inner)):
                on = {p for p, b in zip(inner, inner_bits) if b}
                sources = {i for i, _ in on}
                optional = [i for i in range(k) if i in sources]
                for out_bits in itertools.product((False, True), repeat=len(optional)):
                    to_out = {(i, w) for i, b in zip(optional, out_bits) if b} | {
                        (i, w) for i in range(k) if i not in sources
                    }
                    edges = tuple(p in on or p in to_out for p in pairs)
                    for om, orole in out_labels:
                        c = Choices(
                            present=tuple(i < k for i in range(w)),
                            models=tuple(labs[i][0] if i < k else 0 for i in range(w)),
                            roles=tuple(labs[i][1] if i < k else 0 for i in range(w)),
                            edges=edges,
                            out_model=om,
                            out_role=orole,
                        )
                        c, spec = realise(space, c, "exhaustive")
                        if c.notes:  # over budget: repaired into some other graph
                            continue
                        if index.is_new(spec):
                            found.append((c, spec))
    return found


class ExhaustiveSearch(Optimizer):
    name = "exhaustive"
    fixed_batch = True

    def __init__(self, limit: int = RAW_LIMIT):
        super().__init__()
        self.limit = limit
        self.graphs: list[tuple[Choices, GraphSpec]] = []
        self.cursor = 0

    def bind(self, space: SearchSpace, seed: int) -> None:
        super().bind(space, seed)
        self.graphs = enumerate_graphs(space, self.limit)

    def config(self) -> dict[str, Any]:
        return {"limit": self.limit}

    @property
    def total(self) -> int:
        return len(self.graphs)

    @property
    def finite(self) -> bool:
        return True

    @property
    def finished(self) -> bool:
        return self.cursor >= len(self.graphs)

    def propose(self, iteration: int, count: int, rng: np.random.Generator) -> list[Proposal]:
        chunk = self.graphs[self.cursor : self.cursor + count]
        self.cursor += len(chunk)
        return [Proposal(spec, c, "exhaustive") for c, spec in chunk]

    def state_dict(self) -> dict[str, Any]:
        return {"cursor": self.cursor}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.cursor = int(state["cursor"])
