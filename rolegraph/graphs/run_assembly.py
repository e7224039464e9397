"""A run's `RunResult` assembled from the node traces in its context: the answer, tokens, cost, FLOPs units,
wall time (modelled, or measured as if the run had been alone and fresh: `schedule.alone_wall_s`, for graphs
with fan-out or loops through what actually ran) and whether the replies were simulated, also for a run that
stopped part way (its `partial`).

The FLOPs units are those of the nodes that ran (`ran`), each at its own figure in the graph (`analysis`), so a run
stopped by its budget or by a failure reports what it spent, and a complete run exactly what it reported before (a
graph without fan-out or loops: what `validate` estimates). A node ran when it made a call (also one that failed or
was cancelled after it: the call was paid for) or finished without one (a reader with no sentence to show its
model, counted as complete runs always counted it); a node refused by the budget or failing on its first call spent
nothing. A node answered from the response cache counts like any other: the figure is the paper's compute units of
the graph's work, not what this machine recomputed. A node a router stage reads from an earlier stage was paid for
there."""

from __future__ import annotations

from collections.abc import Collection
from time import perf_counter
from typing import Any, Protocol

from rolegraph.graphs.nodes import RunContext
from rolegraph.graphs.result import NodeTrace, RunResult, failed_tool_notes
from rolegraph.graphs.schedule import Topology, alone_wall_s, critical_path_s
from rolegraph.graphs.spec import GraphSpec
from rolegraph.graphs.units import as_run_critical_path, as_run_spec, ordered_traces, output_trace
from rolegraph.models.hub import ModelHub
from rolegraph.models.provenance import SIMULATED, Simulation, simulation_of


class _Compiled(Protocol):
    """What the assembly reads of a `CompiledGraph`."""

    spec: GraphSpec
    hub: ModelHub
    topo: Topology
    output: str
    dynamic: Any
    graph_hash: str
    world: int | None
    configured_simulation: Simulation
    model_of: dict[str, str]
    model_slots: dict[str, int]

    def flops_units(self, family: str) -> float: ...


def assemble_result(graph: _Compiled, ctx: RunContext, family: str, error: str | None = None) -> RunResult:
    """The RunResult of the nodes traced so far (all of them, unless the run stopped)."""
    if graph.dynamic is not None:
        traces = ordered_traces(graph.spec, graph.dynamic.dyn, ctx.traces)
        critical = as_run_critical_path(traces)
        out = output_trace(traces, graph.output)
        done = ran(traces, ctx.given)
        only = None if len(done) == len(traces) else done  # all of them: the as-run figure, as before
        flops = flops_units_of(as_run_spec(graph.spec, traces, out), graph.hub, family, only) if done else 0.0
    else:
        traces = [ctx.traces[n] for n in graph.spec.node_ids if n in ctx.traces]
        critical = critical_path_s(graph.topo, {t.id: t.latency_s for t in traces})
        out = ctx.traces.get(graph.output)
        done = ran(traces, ctx.given)
        if len(done) == len(graph.spec.nodes):
            flops = graph.flops_units(family)
        else:
            flops = flops_units_of(graph.spec, graph.hub, family, done) if done else 0.0
    if ctx.modelled:
        wall = critical
    elif graph.dynamic is None:  # as if the run had been alone and fresh (`schedule.alone_wall_s`)
        shared = ctx.coalescer.shared if ctx.coalescer is not None else None  # one slot turn per shared request
        wall = alone_wall_s(graph.topo, traces, perf_counter() - ctx.t0, graph.model_of, graph.model_slots, shared)
    else:  # the same for what a dynamic run ran: its copies and rounds, each on its own model's slots
        models = {t.id: t.model for t in traces}
        wall = alone_wall_s(Topology.as_run(traces), traces, perf_counter() - ctx.t0, models, graph.model_slots)
    simulation = simulation_of(t.simulated for t in traces) or graph.configured_simulation
    return RunResult(
        graph_name=graph.spec.name,
        graph_hash=graph.graph_hash,
        answer=out.answer if out else None,
        output_node=graph.output,
        nodes=traces,
        tokens_in=sum(t.tokens_in for t in traces),
        tokens_out=sum(t.tokens_out for t in traces),
        cost_usd=sum(t.cost_usd for t in traces),
        latency_s=wall,
        critical_path_s=critical,
        flops_units=flops,
        simulated=simulation == SIMULATED,
        simulation=simulation,
        served=RunResult.served_by(traces),
        world=graph.world,
        error=error,
        notes=[*ctx.notes, *failed_tool_notes(traces)],
    )


def graph_hash_of(spec: GraphSpec) -> str:
    try:
        from rolegraph.graphs.io import graph_hash
    except ImportError:  # the io module is optional for the runtime
        return ""
    return graph_hash(spec)


def ran(traces: list[NodeTrace], given: Collection[str]) -> set[str]:
    """Ids of the traced nodes whose FLOPs the run spent (see the module docstring)."""
    return {t.id for t in traces if t.id not in given and (t.calls > 0 or t.error is None)}


def flops_units_of(spec: GraphSpec, hub: ModelHub, family: str, only: Collection[str] | None = None) -> float:
    """`analysis.flops_units` of `spec` (of the nodes in `only`, when given); 0 when a model has no sizes."""
    try:
        from rolegraph.graphs.analysis import TOKEN_PROFILES, FlopsUnknownError, flops_units
    except ImportError:
        return 0.0
    profile = TOKEN_PROFILES.get(family)
    if profile is None:
        return 0.0
    try:
        return flops_units(spec, hub.pool, profile, only)
    except FlopsUnknownError:
        return 0.0
