"""Ground truth for search benchmarks: each graph's accuracy over a large item set, cached on disk.

The cache key includes a fingerprint of everything that decides a sim answer (the sim's code, the
role prompts and parsers, the pool) and the simulator world of the executor's pool, so a changed sim
or another world never reads stale truths. Graphs are matched up to isomorphism (an optimizer's slot
names differ from the enumeration's) by `shape_key`: a Weisfeiler-Lehman hash of the labelled graph
(role|model|params|output) picks the bucket and an exact isomorphism check decides, so two different
graphs whose hashes collide never share a truth.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import RESULTS_DIR
from benchmarks.simexec import SimExecutor
from benchmarks.synthetic import exact_score
from rolegraph.fileio import write_atomic
from rolegraph.graphs.io import graph_hash
from rolegraph.graphs.isomorphism import Shape
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.sim.fingerprint import sim_fingerprint

CACHE_SUBDIR = ".cache"
CACHE_FORMAT = 2
"""2: a list of [graph, accuracy] pairs (1 was a dict keyed by the bucket hash alone, which two colliding
graphs shared)."""


def shape_key(spec: GraphSpec) -> Shape:
    """An exact isomorphism-invariant key of a graph (roles, models, params, output, edges): equal keys
    mean isomorphic graphs. Usable as a dict key or set member."""
    return Shape(spec)


class TruthTable:
    """Accuracy of graphs over `items` (one seed), computed once per graph shape and kept on disk."""

    def __init__(self, executor: SimExecutor, items: Sequence[Item], *, seed: int = 0, name: str = "truth",
                 results_dir: Path = RESULTS_DIR):
        self.executor = executor
        self.items = list(items)
        self.seed = seed
        parts: list = [sim_fingerprint(), name, seed, len(self.items), self.items[0].id, self.items[-1].id,
                       CACHE_FORMAT]
        if executor.pool.world:  # world 0 keeps the key layout it had before worlds existed
            parts.append({"world": executor.pool.world})
        ident = json.dumps(parts)
        self.cache_dir = results_dir / CACHE_SUBDIR
        self.path = self.cache_dir / f"{name}-{hashlib.sha256(ident.encode()).hexdigest()[:16]}.json"
        stored = json.loads(self.path.read_text()) if self.path.exists() else []
        self._acc: dict[Shape, float] = {shape_key(GraphSpec.model_validate(g)): float(a) for g, a in stored}
        self._dirty = 0

    def __len__(self) -> int:
        return len(self._acc)

    def accuracy(self, spec: GraphSpec) -> float:
        key = shape_key(spec)
        if key not in self._acc:
            kind = self.items[0].family
            hits = sum(exact_score(self.executor.answer(spec, it, kind=kind, seed=self.seed), it) for it in self.items)
            self._acc[key] = hits / len(self.items)
            self._dirty += 1
        return self._acc[key]

    def save(self) -> None:
        if self._dirty:  # whole or not at all, under a temp name of its own (parallel jobs share the cache)
            write_atomic(self.path, json.dumps([[k.spec.model_dump(mode="json", exclude_defaults=True), acc]
                                                for k, acc in self._acc.items()]))
            self._dirty = 0


def unique_shapes(specs: Sequence[GraphSpec]) -> bool:
    """True when no two graphs are isomorphic (each graph of this space is its own shape)."""
    keys = [shape_key(s) for s in specs]
    return len(set(keys)) == len(keys) and len({graph_hash(s) for s in specs}) == len(specs)
