"""A run's `RunResult` assembled from the node traces in its context: the answer, tokens, cost, FLOPs units,
wall time (modelled, as if alone, or measured) and whether the replies were simulated, also for a run that
stopped part way (its `partial`)."""

from __future__ import annotations

from time import perf_counter
from typing import Any, Protocol

from rolegraph.graphs.nodes import RunContext
from rolegraph.graphs.result import RunResult
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
        flops = flops_units_of(as_run_spec(graph.spec, traces, out), graph.hub, family) if traces else 0.0
    else:
        traces = [ctx.traces[n] for n in graph.spec.node_ids if n in ctx.traces]
        critical = critical_path_s(graph.topo, {t.id: t.latency_s for t in traces})
        out = ctx.traces.get(graph.output)
        flops = graph.flops_units(family)
    if ctx.modelled:
        wall = critical
    elif graph.dynamic is None:  # as if the run had been alone and fresh (`schedule.alone_wall_s`)
        wall = alone_wall_s(graph.topo, traces, perf_counter() - ctx.t0, graph.model_of, graph.model_slots)
    else:
        wall = perf_counter() - ctx.t0
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
        notes=list(ctx.notes),
    )


def graph_hash_of(spec: GraphSpec) -> str:
    try:
        from rolegraph.graphs.io import graph_hash
    except ImportError:  # the io module is optional for the runtime
        return ""
    return graph_hash(spec)


def flops_units_of(spec: GraphSpec, hub: ModelHub, family: str) -> float:
    try:
        from rolegraph.graphs.analysis import TOKEN_PROFILES, FlopsUnknownError, flops_units
    except ImportError:
        return 0.0
    profile = TOKEN_PROFILES.get(family)
    if profile is None:
        return 0.0
    try:
        return flops_units(spec, hub.pool, profile)
    except FlopsUnknownError:
        return 0.0
