"""How a compiled graph with fan-out or loops is launched: each group is one unit, every other node
is a unit of its own, and units start in topological order, each given its inputs' futures.

Groups are closed under paths between their nodes (dynamic.py), so the graph of units is acyclic and
launching a unit never waits for anything but its own inputs: a plain node is its LangGraph task,
a fan-out group its spawner task, a loop group its loop task. A node reading a grouped node gets a
`Pick` of the group's result: every copy's output (fan-out) or the last round's (loop).

The run's result reads the traces of every instance (copies and rounds, in graph-node order); its
critical path is the longest path through what actually ran (each trace records the instances it
read) and its FLOPs units are those of the as-run graph, so they count the rounds and copies paid for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import networkx as nx
from langgraph.func import task

from rolegraph.graphs.dynamic import Dynamics, FanoutGroup, dynamics
from rolegraph.graphs.fanout import Spawner
from rolegraph.graphs.instances import Pick
from rolegraph.graphs.loops import LoopRunner
from rolegraph.graphs.nodes import NodePlan, RunContext
from rolegraph.graphs.result import NodeTrace
from rolegraph.graphs.spec import GraphSpec, NodeSpec


class DynamicPlan:
    """The launch plan of a graph with fan-out or loops (built once per compiled graph)."""

    def __init__(
        self,
        spec: GraphSpec,
        plans: Mapping[str, NodePlan],
        preds: Mapping[str, tuple[str, ...]],
        tasks: Mapping[str, Any],
        formats: Any,
        live: Mapping[str, RunContext],
    ):
        self.spec, self.preds, self.tasks = spec, preds, tasks
        self.dyn: Dynamics = dynamics(spec)
        self.output = spec.output_id()
        self.runners: dict[str, Spawner | LoopRunner] = {}
        self.group_tasks: dict[str, Any] = {}
        for f in self.dyn.fanouts:
            self.runners[f.key] = Spawner(f, plans, preds, tasks, formats, live)
        for lp in self.dyn.loops:
            self.runners[lp.key] = LoopRunner(lp, plans, preds, tasks, formats, live)
        for key, runner in self.runners.items():
            fn = runner.function()
            self.group_tasks[key] = task(fn, name=fn.__name__)
        self.order = self._unit_order()

    def unit(self, node: str) -> str:
        return self.dyn.group_of.get(node, node)

    def _unit_order(self) -> list[str]:
        g: nx.DiGraph[str] = nx.DiGraph()
        index = {n: i for i, n in enumerate(self.spec.node_ids)}
        first: dict[str, int] = {}
        for n in self.spec.node_ids:
            u = self.unit(n)
            first[u] = min(first.get(u, index[n]), index[n])
            g.add_node(u)
        for s, d in self.spec.edges:
            if self.unit(s) != self.unit(d):
                g.add_edge(self.unit(s), self.unit(d))
        return list(nx.lexicographical_topological_sort(g, key=first.__getitem__))

    async def run_all(self, inputs: dict, run: str) -> dict:
        """The entrypoint's body for a dynamic graph: launch every unit, await them all. Tasks get the run's
        token (`run`), never its context: a tracer records task arguments, and the context holds the key."""
        futures: dict[str, Any] = {}

        def read(node: str) -> Any:
            u = self.unit(node)
            return futures[node] if u == node else Pick(futures[u], node)

        for u in self.order:
            runner = self.runners.get(u)
            if runner is None:
                futures[u] = self.tasks[u](inputs, run, *[read(p) for p in self.preds[u]])
            elif isinstance(runner, Spawner):
                futures[u] = self.group_tasks[u](inputs, run, read(runner.group.source), *map(read, runner.outside))
            else:
                futures[u] = self.group_tasks[u](inputs, run, *map(read, runner.outside))
        done = dict(zip(futures, await asyncio.gather(*futures.values())))
        nodes: dict[str, Any] = {}
        for u, value in done.items():
            if u in self.runners:
                for parts in value.values():
                    for part in parts if isinstance(parts, list) else [parts]:
                        nodes[part["id"]] = part
            else:
                nodes[u] = value
        out_unit = self.unit(self.output)
        out = done[out_unit] if out_unit == self.output else done[out_unit][self.output]
        return {"answer": out["answer"], "output_node": self.output, "nodes": nodes}

    def is_fanout(self, node: str) -> bool:
        key = self.dyn.group_of.get(node)
        return key is not None and isinstance(self.dyn.group(key), FanoutGroup)


def ordered_traces(spec: GraphSpec, dyn: Dynamics, traces: Mapping[str, NodeTrace]) -> list[NodeTrace]:
    """Every trace in graph-node order; a fan-out node's copies in copy order; a loop's rounds one
    after the other (round 1 of every loop node, then round 2, ...)."""
    position = {n: i for i, n in enumerate(spec.node_ids)}
    anchor = {n: min(position[m] for m in lp.nodes) for lp in dyn.loops for n in lp.nodes}

    def key(t: NodeTrace) -> tuple[int, int, int]:
        base = t.instance_of or t.id
        pos = position.get(base, len(position))
        if t.round is not None:
            return anchor.get(base, pos), t.round, pos
        return pos, t.copy_index or 0, 0

    return sorted(traces.values(), key=key)


def output_trace(traces: list[NodeTrace], output: str) -> NodeTrace | None:
    runs = [t for t in traces if t.id == output or t.instance_of == output]
    return runs[-1] if runs else None


def as_run_critical_path(traces: list[NodeTrace]) -> float:
    """The longest chain of latencies through the instances that ran (each lists what it read). Not
    `schedule.critical_path_s`: fan-out copies and loop rounds are not nodes of the spec's `Topology`."""
    finish: dict[str, float] = {}
    by_id = {t.id: t for t in traces}

    def end(t: NodeTrace) -> float:
        if t.id not in finish:
            finish[t.id] = t.latency_s + max((end(by_id[i]) for i in t.inputs if i in by_id), default=0.0)
        return finish[t.id]

    return max((end(t) for t in traces), default=0.0)


def as_run_spec(spec: GraphSpec, traces: list[NodeTrace], output: NodeTrace | None) -> GraphSpec:
    """The static graph of what ran: one node per trace, one edge per input it read."""
    ids = {t.id for t in traces}
    params = {n.id: n.params for n in spec.nodes}
    nodes = [
        NodeSpec(id=t.id, role=t.role, model=t.model, params=dict(params.get(t.instance_of or t.id, {})))
        for t in traces
    ]
    edges = list(dict.fromkeys((i, t.id) for t in traces for i in t.inputs if i in ids and i != t.id))
    return GraphSpec(name=spec.name, nodes=nodes, edges=edges, output=output.id if output else None)
