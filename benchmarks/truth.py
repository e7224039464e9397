"""Ground truth for search benchmarks: each graph's accuracy over a large item set, cached on disk.

The cache key includes a fingerprint of everything that decides a sim answer (the sim's code, the
role prompts and parsers, the pool) and the simulator world of the executor's pool, so a changed sim
or another world never reads stale truths. Graphs are matched
up to isomorphism (node labels role|model|output, Weisfeiler-Lehman hash): an optimizer's slot
names differ from the enumeration's.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import networkx as nx

from benchmarks.common import RESULTS_DIR
from benchmarks.simexec import SimExecutor
from benchmarks.synthetic import exact_score
from rolegraph.graphs.io import graph_hash
from rolegraph.graphs.isomorphism import structure_key
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.sim.fingerprint import sim_fingerprint

CACHE_SUBDIR = ".cache"
def shape_key(spec: GraphSpec) -> str:
    """An isomorphism-invariant key of a graph (roles, models, params, output, edges)."""
    return f"{nx.__version__}:" + structure_key(spec)


class TruthTable:
    """Accuracy of graphs over `items` (one seed), computed once per graph shape and kept on disk."""

    def __init__(self, executor: SimExecutor, items: Sequence[Item], *, seed: int = 0, name: str = "truth",
                 results_dir: Path = RESULTS_DIR):
        self.executor = executor
        self.items = list(items)
        self.seed = seed
        parts: list = [sim_fingerprint(), name, seed, len(self.items), self.items[0].id, self.items[-1].id]
        if executor.pool.world:  # world 0 keeps the key layout it had before worlds existed
            parts.append({"world": executor.pool.world})
        ident = json.dumps(parts)
        self.cache_dir = results_dir / CACHE_SUBDIR
        self.path = self.cache_dir / f"{name}-{hashlib.sha256(ident.encode()).hexdigest()[:16]}.json"
        self._acc: dict[str, float] = json.loads(self.path.read_text()) if self.path.exists() else {}
        self._dirty = 0

    def accuracy(self, spec: GraphSpec) -> float:
        key = shape_key(spec)
        if key not in self._acc:
            kind = self.items[0].family
            hits = sum(exact_score(self.executor.answer(spec, it, kind=kind, seed=self.seed), it) for it in self.items)
            self._acc[key] = hits / len(self.items)
            self._dirty += 1
        return self._acc[key]

    def save(self) -> None:
        if self._dirty:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._acc))
            tmp.replace(self.path)
            self._dirty = 0


def unique_shapes(specs: Sequence[GraphSpec]) -> bool:
    """True when no two graphs share a shape key (so the key identifies graphs of this space)."""
    keys = [shape_key(s) for s in specs]
    return len(set(keys)) == len(keys) and len({graph_hash(s) for s in specs}) == len(specs)
