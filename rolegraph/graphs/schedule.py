"""Timing of a run as a dataflow: a node starts when its last predecessor ends.

Node end = max(predecessor ends) + node latency, so the latest end is the critical-path latency.
This is what the runtime achieves (it never waits for anything but a node's own inputs), and it
is the modelled wall time of a simulated run that does not sleep. Pure and O(nodes + edges): it
runs once per graph run, so it avoids building a networkx graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rolegraph.errors import GraphError
from rolegraph.graphs.result import NodeTrace
from rolegraph.graphs.spec import GraphSpec

REPLAY_EPSILON_S = 1e-9


@dataclass(frozen=True)
class Topology:
    """Nodes in a topological order (ties in spec order) and their predecessors in edge order."""

    order: tuple[str, ...]
    preds: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, spec: GraphSpec) -> Topology:
        ids = spec.node_ids
        known = set(ids)
        preds: dict[str, list[str]] = {n: [] for n in ids}
        for src, dst in spec.edges:
            if src not in known or dst not in known:
                raise GraphError([f"edge [{src}, {dst}] names an unknown node"])
            preds[dst].append(src)
        remaining = {n: len(set(p)) for n, p in preds.items()}
        succs: dict[str, list[str]] = {n: [] for n in ids}
        for n, ps in preds.items():
            for p in dict.fromkeys(ps):
                succs[p].append(n)
        ready = [n for n in ids if remaining[n] == 0]
        order: list[str] = []
        while ready:
            node = ready.pop(0)
            order.append(node)
            for s in succs[node]:
                remaining[s] -= 1
                if remaining[s] == 0:
                    ready.append(s)
        if len(order) != len(ids):
            stuck = [n for n in ids if n not in set(order)]
            raise GraphError([f"graph has a cycle through {', '.join(stuck)}"])
        return cls(tuple(order), {n: tuple(dict.fromkeys(p)) for n, p in preds.items()})


def schedule(topo: Topology, latency: Mapping[str, float]) -> dict[str, tuple[float, float]]:
    """(start, end) per node of `latency` (nodes absent from it are skipped, as not run)."""
    times: dict[str, tuple[float, float]] = {}
    for node in topo.order:
        if node not in latency:
            continue
        start = max((times[p][1] for p in topo.preds[node] if p in times), default=0.0)
        times[node] = (start, start + latency[node])
    return times


def critical_path_s(topo: Topology, latency: Mapping[str, float]) -> float:
    """The longest source-to-sink sum of node latencies."""
    times = schedule(topo, latency)
    return max((end for _, end in times.values()), default=0.0)


def replayed_delay(topo: Topology, traces: Sequence[NodeTrace]) -> float:
    """Seconds a run's measured wall time lacks because some calls were answered from the cache.

    A node's `latency_s` counts a real model's cache hits with the latency measured when each call
    was first made, while its `start_s`/`end_s` say when it really ran. The difference of the two
    critical paths is what the hits saved; adding it back gives the wall time of the run as first
    made (0 when nothing was replayed)."""
    adjusted = {t.id: t.latency_s for t in traces}
    measured = {t.id: t.end_s - t.start_s for t in traces}
    if all(abs(adjusted[n] - measured[n]) < REPLAY_EPSILON_S for n in adjusted):
        return 0.0
    return max(0.0, critical_path_s(topo, adjusted) - critical_path_s(topo, measured))
