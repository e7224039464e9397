"""Two graphs that a Weisfeiler-Lehman hash (3 rounds) cannot tell apart but that are not isomorphic.

Two chains of eight workers feed one output: the first worker of each chain has its own model, and
so has the last, and the twins swap which end goes with which. The two ends of a chain are seven hops
apart, so no node sees both within the hash's three rounds of refinement and every node's 3-hop
neighbourhood is the same in both graphs; but in A the 1B-headed chain ends in a verifier, in B in a
fuser.
"""
from __future__ import annotations

from rolegraph.graphs.spec import GraphSpec, NodeSpec

MODELS = ("sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b")
ROLES = ("solver", "verifier", "fuser")
CHAIN = 8
MID = ("solver", "sim/llama-3.1-8b")


def _chain_graph(name: str, ends: list[tuple[tuple[str, str], tuple[str, str]]]) -> GraphSpec:
    nodes, edges = [], []
    for c, (head, tail) in enumerate(ends):
        ids = [f"n{c * CHAIN + k}" for k in range(CHAIN)]
        labels = [head] + [MID] * (CHAIN - 2) + [tail]
        nodes += [NodeSpec(id=i, role=r, model=m) for i, (r, m) in zip(ids, labels)]
        edges += list(zip(ids, ids[1:])) + [(ids[-1], "out")]
    nodes.append(NodeSpec(id="out", role="fuser", model="sim/llama-3.1-8b"))
    return GraphSpec(name=name, nodes=nodes, edges=edges, output="out")


def wl_twins() -> tuple[GraphSpec, GraphSpec]:
    small, mid = ("solver", "sim/llama-3.2-1b"), ("solver", "sim/llama-3.2-3b")
    verify, fuse = ("verifier", "sim/llama-3.1-8b"), ("fuser", "sim/llama-3.1-8b")
    a = _chain_graph("twin-a", [(small, verify), (mid, fuse)])
    b = _chain_graph("twin-b", [(small, fuse), (mid, verify)])
    return a, b
