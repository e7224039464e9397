"""Exhaustive search: every distinct graph of a small space, each scored on the same items.

Graphs are enumerated by worker count, then multisets of (model, role) labels, then edge subsets,
then the output's label; isomorphic duplicates (same graph, slots renamed) are dropped, as are
graphs over the budget (no repair: repair would only map them onto graphs already listed). This
is the ground truth the search-efficiency benchmark compares the other optimizers against. Candidates are
bucketed by a Weisfeiler-Lehman hash, then checked for isomorphism (`graphs.isomorphism`). A staged
space is enumerated stage by stage: every width with every model (or multiset of models, if the stage
mixes them), times the output's models and roles.
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
from rolegraph.optimize.stages import Stage, slot_ranges

RAW_LIMIT = 200_000
"""Candidate combinations examined at most; a larger space is refused with its size."""


def raw_size(space: SearchSpace) -> int:
    if space.stages:
        return _staged_raw_size(space)
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
    if space.stages:
        return _enumerate_staged(space)
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


def _stage_options(space: SearchSpace, stage: Stage) -> list[tuple[int, ...]]:
    """Every (model index per node) a stage may take, one tuple per width (empty for width 0)."""
    ms = [space.models.index(m) for m in stage.models]
    out: list[tuple[int, ...]] = []
    for width in stage.widths:
        if width == 0:
            out.append(())
        elif stage.same_model:
            out += [(m,) * width for m in ms]
        else:
            out += list(itertools.combinations_with_replacement(ms, width))
    return out


def _staged_raw_size(space: SearchSpace) -> int:
    total = len(space.staged_output.models) * len(space.output_roles)
    for stage in space.stages:
        total *= len(_stage_options(space, stage))
    return total


def _enumerate_staged(space: SearchSpace) -> list[tuple[Choices, GraphSpec]]:
    w = space.worker_slots
    index = StructureIndex()
    found: list[tuple[Choices, GraphSpec]] = []
    options = [_stage_options(space, st) for st in space.stages]
    ranges = slot_ranges(space.stages)
    outs = [(space.models.index(m), r) for m in space.staged_output.models for r in range(len(space.output_roles))]
    for combo in itertools.product(*options):
        present, models = [False] * w, [0] * w
        for slots, picked in zip(ranges, combo):
            for i, m in zip(slots, picked):
                present[i], models[i] = True, m
        for om, orole in outs:
            c = Choices(
                present=tuple(present),
                models=tuple(models),
                roles=tuple([0] * w),
                edges=tuple(False for _ in edge_pairs(w, space.worker_edges)),
                out_model=om,
                out_role=orole,
            )
            c, spec = realise(space, c, "exhaustive")
            if not c.notes and index.is_new(spec):
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
        self.cursor = 0  # a reused optimizer starts its next search at the first graph (a checkpoint restores it)

    def config(self) -> dict[str, Any]:
        return {"limit": self.limit}

    def warm_start(self, pg, evidence) -> bool:  # noqa: ANN001 - the base signature
        raise SearchError(
            "exhaustive enumeration scores every graph on one batch, so it cannot start from an earlier "
            "run: drop --init-from, or use another optimizer"
        )

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
