"""Timing of a run as a dataflow: a node starts when its last predecessor ends.

Node end = max(predecessor ends) + node latency, so the latest end is the critical-path latency.
This is what the runtime achieves (it never waits for anything but a node's own inputs), and it
is the modelled wall time of a simulated run that does not sleep. Pure and O(nodes + edges): it
runs once per graph run, so it avoids building a networkx graph.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rolegraph.errors import GraphError
from rolegraph.graphs.result import NodeTrace
from rolegraph.graphs.spec import GraphSpec


@dataclass(frozen=True)
class Topology:
    """Nodes in a topological order (ties in spec order) and their predecessors in edge order."""

    order: tuple[str, ...]
    preds: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, spec: GraphSpec) -> Topology:
        """Kahn's algorithm by hand, not networkx as in validate.py: the ready-queue order (first-in first-out)
        is the tie-break `slotted_critical_path_s` uses, which networkx's sorts do not give, and this runs at
        every compile (about 5x faster than building an nx.DiGraph on a 10-node graph)."""
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

    @classmethod
    def as_run(cls, traces: Sequence[NodeTrace]) -> Topology:
        """The topology of what a dynamic run actually ran: one node per trace (fan-out copies and loop rounds
        are not nodes of the spec), its predecessors the traced instances it read. Lets a graph with fan-out or
        loops report its time as a static graph does (`alone_wall_s`). Ties in trace order; inputs that are not
        traced (a node a router stage reads from an earlier stage) are left out, as not run here."""
        known = {t.id for t in traces}
        preds = {t.id: tuple(dict.fromkeys(i for i in t.inputs if i in known and i != t.id)) for t in traces}
        order: list[str] = []
        placed: set[str] = set()
        pending = [t.id for t in traces]
        while pending:  # one pass when the traces come inputs first, as `units.ordered_traces` gives them
            for n in pending:
                if all(p in placed for p in preds[n]):
                    order.append(n)
                    placed.add(n)
            if not placed.intersection(pending):  # inputs are recorded after they ran: never circular, but total
                order += pending
                placed.update(pending)
            pending = [n for n in pending if n not in placed]
        return cls(tuple(order), preds)


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
    """The longest source-to-sink sum of node latencies. Not `analysis.critical_path`: here a node absent
    from `latency` did not run and breaks the chain through it (there, an estimate, it counts 0 s)."""
    times = schedule(topo, latency)
    return max((end for _, end in times.values()), default=0.0)


def slotted_critical_path_s(
    topo: Topology,
    latency: Mapping[str, float],
    model_of: Mapping[str, str],
    slots: Mapping[str, int],
    shared: Mapping[str, str] | None = None,
) -> float:
    """The run's length when each model serves at most `slots[model]` calls at once.

    Nodes take a free slot of their model in the order they become ready (ties in topological order),
    as the model's client hands out its max_concurrency: two parallel nodes on a one-slot server run
    one after the other, on a wide endpoint side by side. Nodes absent from `latency` did not run.
    Nodes with one `shared` key were answered by one request (coalesced, with `n`): the client holds one
    slot for it, so they take one slot turn together, as long as the slowest of them, each ending after its
    own latency (laid out as k turns, a width-k vote on a one-slot pool read k times its real time)."""
    shared = shared or {}
    turns = _shared_turns(latency, shared)
    taken: dict[str, float] = {}  # shared key -> the start of its one slot turn
    index = {n: i for i, n in enumerate(topo.order)}
    ran = [n for n in topo.order if n in latency]
    succs: dict[str, list[str]] = {n: [] for n in ran}
    waiting: dict[str, int] = {}
    for n in ran:
        preds = [p for p in topo.preds[n] if p in latency]
        waiting[n] = len(preds)
        for p in preds:
            succs[p].append(n)
    heap = [(0.0, index[n], n) for n in ran if waiting[n] == 0]
    free: dict[str, list[float]] = {}
    ends: dict[str, float] = {}
    while heap:
        ready, _, node = heapq.heappop(heap)
        model = model_of.get(node, node)
        slot = free.setdefault(model, [0.0] * max(1, slots.get(model, 1)))
        key = shared.get(node)
        if key is not None and key in taken:  # its request already holds a slot
            ends[node] = max(ready, taken[key]) + latency[node]
        else:
            start = max(ready, heapq.heappop(slot))
            ends[node] = start + latency[node]
            heapq.heappush(slot, start + turns[key] if key is not None else ends[node])
            if key is not None:
                taken[key] = start
        for s in succs[node]:
            waiting[s] -= 1
            if waiting[s] == 0:
                start = max(ends[p] for p in topo.preds[s] if p in ends)
                heapq.heappush(heap, (start, index[s], s))
    return max(ends.values(), default=0.0)


def _shared_turns(latency: Mapping[str, float], shared: Mapping[str, str]) -> dict[str, float]:
    """{shared key: how long its request holds its slot}: its slowest member's latency (members that ran)."""
    turns: dict[str, float] = {}
    for node, key in shared.items():
        if node in latency:
            turns[key] = max(turns.get(key, 0.0), latency[node])
    return turns


def alone_wall_s(
    topo: Topology,
    traces: Sequence[NodeTrace],
    wall: float,
    model_of: Mapping[str, str],
    slots: Mapping[str, int],
    shared: Mapping[str, str] | None = None,
) -> float:
    """A measured run's wall time as if it had run alone, fresh.

    A node's `latency_s` counts a real model's calls at their own measured latency: a cache hit as
    first measured, a fresh call without the time it waited for a free slot taken by other items'
    runs; its `start_s`/`end_s` say when it really ran. The run's time alone is those latencies
    scheduled on the models' slots (`slotted_critical_path_s`) plus the framework's own time (the
    measured wall beyond the measured critical path). For a fresh run that waited for nothing this
    is the measured wall; a replay from the cache reports what the run took when it was made. Nodes
    answered by one coalesced request (`shared`, `Coalescer.shared`) hold one slot together."""
    adjusted = {t.id: t.latency_s for t in traces}
    measured = {t.id: t.end_s - t.start_s for t in traces}
    framework = max(0.0, wall - critical_path_s(topo, measured))
    return slotted_critical_path_s(topo, adjusted, model_of, slots, shared) + framework
