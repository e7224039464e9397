"""Graph families the benchmarks sweep: chains, fan-outs, layered width x depth grids, random DAGs.

The random-DAG distribution (the calibration's "random equal-budget graphs", as the paper's
pilots) is defined here and written out in BENCHMARKS.md: `random_dag`.
"""
from __future__ import annotations

import random
from collections.abc import Sequence

from rolegraph.graphs.spec import GraphSpec, NodeSpec

RANDOM_EDGE_P = 0.3
"""Chance of each forward edge between two non-output nodes of a random DAG."""

MODEL_1B, MODEL_3B, MODEL_8B, MODEL_70B = ("sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b",
                                           "sim/llama-3.1-70b")
SIM_SIZES = (MODEL_1B, MODEL_3B, MODEL_8B, MODEL_70B)
SHORT = {MODEL_1B: "1B", MODEL_3B: "3B", MODEL_8B: "8B", MODEL_70B: "70B"}


def chain(n: int, model: str, role: str = "solver", name: str | None = None) -> GraphSpec:
    """n nodes in a line; the last is the output."""
    nodes = [NodeSpec(id=f"n{i}", role=role, model=model) for i in range(n)]
    return GraphSpec(name=name or f"chain-{n}", nodes=nodes, edges=[(f"n{i}", f"n{i + 1}") for i in range(n - 1)])


def fan(n: int, model: str, name: str | None = None) -> GraphSpec:
    """n parallel solvers into one fuser (n + 1 nodes; n = 1 is a single solver)."""
    if n == 1:
        return GraphSpec(name=name or "fan-1", nodes=[NodeSpec(id="n0", role="solver", model=model)])
    nodes = [NodeSpec(id=f"n{i}", role="solver", model=model) for i in range(n)]
    nodes.append(NodeSpec(id="out", role="fuser", model=model))
    return GraphSpec(name=name or f"fan-{n}", nodes=nodes, edges=[(f"n{i}", "out") for i in range(n)])


def layered(width: int, depth: int, model: str | Sequence[str]) -> GraphSpec:
    """`depth` layers of `width` solvers, each node reading every node of the layer before; a fuser
    reads the last layer when width > 1 (width 1 is a chain of `depth` solvers)."""
    models = [model] if isinstance(model, str) else list(model)
    nodes, edges = [], []
    for d in range(depth):
        for w in range(width):
            nodes.append(NodeSpec(id=f"l{d}w{w}", role="solver", model=models[(d * width + w) % len(models)]))
            if d:
                edges += [(f"l{d - 1}w{p}", f"l{d}w{w}") for p in range(width)]
    if width > 1:
        nodes.append(NodeSpec(id="out", role="fuser", model=models[-1]))
        edges += [(f"l{depth - 1}w{w}", "out") for w in range(width)]
    return GraphSpec(name=f"w{width}d{depth}", nodes=nodes, edges=edges)


def hybrid(width: int, depth: int, model: str) -> GraphSpec:
    """Hybrid test-time scaling: `width` parallel chains of `depth` solvers (each refines the one before),
    fused by a fuser when width > 1. Width is parallel scaling, depth sequential scaling."""
    nodes = [NodeSpec(id=f"c{c}d{d}", role="solver", model=model) for c in range(width) for d in range(depth)]
    edges = [(f"c{c}d{d - 1}", f"c{c}d{d}") for c in range(width) for d in range(1, depth)]
    if width > 1:
        nodes.append(NodeSpec(id="out", role="fuser", model=model))
        edges += [(f"c{c}d{depth - 1}", "out") for c in range(width)]
    return GraphSpec(name=f"hybrid-w{width}d{depth}", nodes=nodes, edges=edges)


def random_dag(models: Sequence[str], rng: random.Random, edge_p: float = RANDOM_EDGE_P,
               name: str = "random") -> GraphSpec:
    """A random DAG over the given node models (one node per entry, shuffled).

    The last node is the output. Every other pair (i < j) in the shuffled order gets an edge with
    probability `edge_p`; every non-output node left without a successor feeds the output, so the
    output is the only sink. Roles: a node that reads two or more nodes is a fuser (it aggregates them),
    any other node a solver (one with a predecessor refines its answer).
    """
    order = list(models)
    rng.shuffle(order)
    n = len(order)
    ids = [f"n{i}" for i in range(n)]
    edges = [(ids[i], ids[j]) for i in range(n - 1) for j in range(i + 1, n - 1) if rng.random() < edge_p]
    has_succ = {s for s, _ in edges}
    edges += [(ids[i], ids[-1]) for i in range(n - 1) if ids[i] not in has_succ]
    indeg = {i: sum(1 for _, d in edges if d == i) for i in ids}
    nodes = [NodeSpec(id=i, role="fuser" if indeg[i] >= 2 else "solver", model=m) for i, m in zip(ids, order)]
    return GraphSpec(name=name, nodes=nodes, edges=edges)
