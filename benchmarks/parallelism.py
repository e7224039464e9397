"""Parallelism: does a run's wall time track its critical path? rolegraph beside a lock-step StateGraph.

Sim latency is switched on (`Settings(latency_scale=...)`: every call really sleeps that share of
its modelled latency). The ideal wall time of a run is its modelled critical path times the scale
(the longest chain of sleeps; computed by running the same graph with latency_scale 0, which gives
the same calls, tokens and modelled latencies). Reported: wall / ideal for rolegraph and for the same
graph hand-written as a plain LangGraph `StateGraph` (each node a graph node doing the same work,
joins by `add_edge([preds], node)`), which runs in lock-step supersteps. Goal: rolegraph <= 1.05.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from time import perf_counter
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph

from benchmarks import graphgen as gg
from benchmarks.common import RESULTS_DIR, BenchRun, Spread, say, table
from benchmarks.overhead import KIND, NodeWork, node_works
from benchmarks.synthetic import synthetic_items
from rolegraph.agents.registry import RoleRegistry
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.graphs.schedule import Topology
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.sim.model import SimChatModel
from rolegraph.settings import Settings

GOAL_RATIO = 1.05
FULL = {"widths": (1, 2, 4, 8, 16), "repeats": 5, "latency_scale": 0.1, "unbalanced": True}
QUICK = {"widths": (1, 2), "repeats": 1, "latency_scale": 0.01, "unbalanced": True}
WIDTH_SOLVER, FUSER = gg.MODEL_3B, gg.MODEL_8B
UNBALANCED = {
    "70B>1B, 1B>70B": ([gg.MODEL_70B, gg.MODEL_1B], [gg.MODEL_1B, gg.MODEL_70B]),
    "70Bx2, 1Bx6": ([gg.MODEL_70B] * 2, [gg.MODEL_1B] * 6),
    "4 chains, 70B at each position": ([gg.MODEL_70B, gg.MODEL_1B, gg.MODEL_1B], [gg.MODEL_1B, gg.MODEL_70B, gg.MODEL_1B],
                                       [gg.MODEL_1B, gg.MODEL_1B, gg.MODEL_70B], [gg.MODEL_1B] * 3),
}
FORMER_TESTS = ("width-8 1B/3B", "70B>1B, 1B>70B>1B")
"""The two graphs whose wall / critical path tests/graphs/test_runtime.py used to assert (a timing goal
belongs here, measured side by side, not in a test): run in quick mode too."""


def mixed_width_graph(width: int) -> GraphSpec:
    """`width` solvers alternating 3B and 1B into an 8B fuser (the former test's width-8 case)."""
    models = [gg.MODEL_1B if i % 2 else gg.MODEL_3B for i in range(width)]
    nodes = [NodeSpec(id=f"s{i}", role="solver", model=m) for i, m in enumerate(models)]
    nodes.append(NodeSpec(id="out", role="fuser", model=FUSER))
    return GraphSpec(name=f"width-{width} 1B/3B", nodes=nodes, edges=[(f"s{i}", "out") for i in range(width)])


def fan_chains_graph() -> GraphSpec:
    """70B -> 1B beside 1B -> 70B, the first 1B also feeding a third 1B, all into an 8B fuser (the former
    test's unbalanced case: a lock-step runtime starts the second 70B only after the first ends)."""
    nodes = [NodeSpec(id=i, role="solver", model=m) for i, m in (("big1", gg.MODEL_70B), ("small1", gg.MODEL_1B),
                                                                   ("small2", gg.MODEL_1B), ("big2", gg.MODEL_70B),
                                                                   ("small3", gg.MODEL_1B))]
    nodes.append(NodeSpec(id="out", role="fuser", model=FUSER))
    edges = [("big1", "small1"), ("small2", "big2"), ("small2", "small3"), ("small1", "out"), ("big2", "out"),
             ("small3", "out")]
    return GraphSpec(name=FORMER_TESTS[1], nodes=nodes, edges=edges)


def width_graph(width: int) -> GraphSpec:
    """`width` 3B solvers into an 8B fuser (width 1: one solver)."""
    if width == 1:
        return GraphSpec(name="width-1", nodes=[NodeSpec(id="s0", role="solver", model=WIDTH_SOLVER)])
    nodes = [NodeSpec(id=f"s{i}", role="solver", model=WIDTH_SOLVER) for i in range(width)]
    nodes.append(NodeSpec(id="out", role="fuser", model=FUSER))
    return GraphSpec(name=f"width-{width}", nodes=nodes, edges=[(f"s{i}", "out") for i in range(width)])


def chains_graph(name: str, chains: tuple[list[str], ...]) -> GraphSpec:
    """Parallel chains of solvers (models as given) into an 8B fuser."""
    nodes, edges = [], []
    for c, models in enumerate(chains):
        for k, model in enumerate(models):
            nodes.append(NodeSpec(id=f"c{c}n{k}", role="solver", model=model))
            if k:
                edges.append((f"c{c}n{k - 1}", f"c{c}n{k}"))
        edges.append((f"c{c}n{len(models) - 1}", "out"))
    nodes.append(NodeSpec(id="out", role="fuser", model=FUSER))
    return GraphSpec(name=name, nodes=nodes, edges=edges)


def _merge(a: dict, b: dict) -> dict:
    return {**a, **b}


class _State(TypedDict):
    question: str
    item: Item
    outs: Annotated[dict, _merge]


def lockstep_stategraph(spec: GraphSpec, works: dict[str, NodeWork]):
    """The same graph as a plain StateGraph: a node per graph node, a join edge where a node has several inputs."""
    topo = Topology.of(spec)
    builder = StateGraph(_State)
    for node_id in topo.order:
        preds = topo.preds[node_id]

        async def fn(state: _State, node_id: str = node_id, preds: tuple[str, ...] = preds) -> dict:
            out = await works[node_id](state["question"], state["item"], [state["outs"][p] for p in preds])
            return {"outs": {node_id: out}}

        builder.add_node(node_id, fn)
        if not preds:
            builder.add_edge(START, node_id)
        else:
            builder.add_edge(preds[0] if len(preds) == 1 else list(preds), node_id)
    builder.add_edge(spec.output_id(), END)
    graph = builder.compile()

    async def run(item: Item) -> str | None:
        state = await graph.ainvoke({"question": item.question, "item": item, "outs": {}})
        return state["outs"][spec.output_id()]["answer"]

    return run


async def _wall(run, item: Item) -> float:
    start = perf_counter()
    await run(item)
    return perf_counter() - start


def run(quick: bool = False, out_dir: Path | None = None, bench_run: BenchRun | None = None) -> dict[str, Any]:
    bench_run = bench_run or BenchRun()
    out_dir = out_dir or RESULTS_DIR
    cfg = QUICK if quick else FULL
    scale = cfg["latency_scale"]
    home = bench_run.scratch_home()
    pool, roles = ModelPool.builtin(), RoleRegistry.default()
    modelled_hub = ModelHub(pool, Settings(home=home, cache=False))
    sleeping = Settings(home=home, cache=False, latency_scale=scale)
    hub = ModelHub(pool, sleeping)
    models = {m: SimChatModel(pool.get(m), sleeping) for m in gg.SIM_SIZES}
    specs = [width_graph(w) for w in cfg["widths"]]
    unbalanced = UNBALANCED if not quick else dict(list(UNBALANCED.items())[:1])
    specs += [chains_graph(name, chains) for name, chains in unbalanced.items()]
    specs += [mixed_width_graph(8), fan_chains_graph()]
    items = synthetic_items(KIND, cfg["repeats"], seed=5)
    results, rows = [], []
    for spec in specs:
        works = {}
        for node in spec.nodes:  # node works on each node's own model
            works.update({k: v for k, v in node_works(spec, roles, models[node.model]).items() if k == node.id})
        compiled = CompiledGraph(spec, hub, roles=roles)
        modelled = CompiledGraph(spec, modelled_hub, roles=roles)
        stategraph = lockstep_stategraph(spec, works)

        async def rolegraph_run(item: Item, compiled: CompiledGraph = compiled) -> str | None:
            return (await compiled.run(item, answer_kind=KIND)).answer

        ours, lock = [], []
        for r, item in enumerate(items):
            ideal = asyncio.run(modelled.run(item, answer_kind=KIND)).critical_path_s * scale
            pair = [("rolegraph", rolegraph_run), ("stategraph", stategraph)]
            for name, fn in pair if r % 2 == 0 else pair[::-1]:
                (ours if name == "rolegraph" else lock).append(asyncio.run(_wall(fn, item)) / ideal)
        a, b = Spread.of(ours), Spread.of(lock)
        results.append({"graph": spec.name, "nodes": len(spec.nodes), "rolegraph_wall_over_critical": a.as_dict(),
                        "stategraph_wall_over_critical": b.as_dict(), "meets_goal": a.median <= GOAL_RATIO})
        rows.append([spec.name, len(spec.nodes), a.text("{:.3f}"), b.text("{:.3f}")])
        say(f"parallelism {spec.name}: rolegraph {a.text('{:.3f}')}, StateGraph {b.text('{:.3f}')}")
    text = table(["graph", "nodes", "rolegraph wall / critical path", "lock-step StateGraph wall / critical path"],
                 rows)
    text += (f"\n\nGoal: rolegraph <= {GOAL_RATIO}. Sim latency on (latency_scale {scale}); the critical path is the "
             f"modelled one times the scale; medians over {cfg['repeats']} items (min-max). Width graphs: 3B solvers "
             "into an 8B fuser; unbalanced graphs: parallel solver chains into an 8B fuser; "
             f"{' and '.join(repr(n) for n in FORMER_TESTS)}: the cases tests/graphs/test_runtime.py used to time.\n")
    payload = {"goal_ratio": GOAL_RATIO, "config": cfg, "results": results,
               "meets_goal": all(r["meets_goal"] for r in results)}
    bench_run.write_result("parallelism", payload, text, out_dir=out_dir, quick=quick)
    return payload
