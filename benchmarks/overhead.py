"""Framework overhead: rolegraph's runtime against a hand-written LangGraph graph and a plain asyncio DAG.

All three do the same per-node work: build the node's messages (its role's system prompt and the
predecessors' outputs), call a zero-latency sim model, parse the reply with the role's parser.
The hand-written graph uses the LangGraph API the runtime compiles to (the functional API:
`@entrypoint` + `@task`), written the way a user would write that shape by hand; the asyncio DAG is
the floor. Shapes: chains and fan-outs (n-1 solvers into a fuser) of 1, 8 and 32 nodes. Reported:
time per node, and rolegraph / hand-written as a ratio (median over interleaved repeats, min-max).
Every implementation must give the same answers as the others, or the benchmark stops. Times are CPU
time of this process (`time.process_time`): on a shared machine wall time mostly measures the
neighbours; wall-time ratios are recorded in the JSON as well.
"""
from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter, process_time
from pathlib import Path
from typing import Any

from langgraph.func import entrypoint, task

from benchmarks import graphgen as gg
from benchmarks.common import RESULTS_DIR, BenchRun, Spread, say, table
from benchmarks.synthetic import synthetic_items
from rolegraph.agents.agent import build_messages
from rolegraph.agents.registry import RoleRegistry
from rolegraph.graphs.nodes import node_sample
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.graphs.schedule import Topology
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.sim.model import SimChatModel
from rolegraph.settings import Settings
from rolegraph.transcript import Section

GOAL_RATIO = 1.15
KIND = "math"
MODEL = gg.MODEL_1B
FULL = {"sizes": (1, 8, 32), "repeats": 21, "node_runs": 480, "items": 40}
QUICK = {"sizes": (1, 8), "repeats": 2, "node_runs": 48, "items": 4}
PROFILE_TOP = 18


def shape(kind: str, n: int) -> GraphSpec:
    """chain-n: n solvers in a line; fan-n: n-1 solvers into a fuser (fan-1 is one solver)."""
    return gg.chain(n, MODEL) if kind == "chain" else gg.fan(max(1, n - 1), MODEL, name=f"fan-{n}") if n > 1 \
        else gg.chain(1, MODEL, name="fan-1")


@dataclass
class NodeWork:
    """One node's work, shared by the hand-written graph and the asyncio DAG."""

    node_id: str
    role_name: str
    parse: Callable[[str, str], Any]
    model: SimChatModel
    system: str
    temperature: float
    max_tokens: int
    sample: int

    async def __call__(self, question: str, item: Item, preds: list[dict]) -> dict:
        sections = [Section(i, p["id"], p["role"], p["output"]) for i, p in enumerate(preds, start=1)]
        comp = await self.model.complete(build_messages(self.system, question, sections),
                                         temperature=self.temperature, max_tokens=self.max_tokens, seed=0,
                                         sample=self.sample, answer_key=item.answer_key())
        out = self.parse(comp.text, KIND)
        return {"id": self.node_id, "role": self.role_name, "output": out.text, "answer": out.answer}


def node_works(spec: GraphSpec, roles: RoleRegistry, model: SimChatModel) -> dict[str, NodeWork]:
    works = {}
    for node in spec.nodes:
        role = roles.get(node.role)
        works[node.id] = NodeWork(node.id, role.name, role.parse, model, role.render(roles.answer_format(KIND)),
                                  role.temperature, role.max_tokens, node_sample(node.id))
    return works


def handwritten_langgraph(spec: GraphSpec, works: dict[str, NodeWork]) -> Callable[[Item], Awaitable[str | None]]:
    """The shape written by hand on LangGraph's functional API: one task, called per node."""
    ids = [n.id for n in spec.nodes]

    @task
    async def run_node(node_id: str, question: str, item: Item, preds: list[dict]) -> dict:
        return await works[node_id](question, item, preds)

    if spec.name.startswith("chain"):
        @entrypoint()
        async def graph(inputs: dict) -> dict:
            preds: list[dict] = []
            for node_id in ids:
                preds = [await run_node(node_id, inputs["question"], inputs["item"], preds)]
            return preds[0]
    else:
        @entrypoint()
        async def graph(inputs: dict) -> dict:
            if len(ids) == 1:
                return await run_node(ids[0], inputs["question"], inputs["item"], [])
            futures = [run_node(i, inputs["question"], inputs["item"], []) for i in ids[:-1]]
            outs = list(await asyncio.gather(*futures))
            return await run_node(ids[-1], inputs["question"], inputs["item"], outs)

    async def run(item: Item) -> str | None:
        return (await graph.ainvoke({"question": item.question, "item": item}))["answer"]

    return run


def asyncio_dag(spec: GraphSpec, works: dict[str, NodeWork]) -> Callable[[Item], Awaitable[str | None]]:
    """The floor: one asyncio task per node, awaiting its predecessors' tasks."""
    topo = Topology.of(spec)
    out_id = spec.output_id()

    async def run(item: Item) -> str | None:
        tasks: dict[str, asyncio.Task] = {}

        async def node(node_id: str) -> dict:
            preds = [await tasks[p] for p in topo.preds[node_id]]
            return await works[node_id](item.question, item, preds)

        for node_id in topo.order:
            tasks[node_id] = asyncio.ensure_future(node(node_id))
        return (await tasks[out_id])["answer"]

    return run


def rolegraph_runner(spec: GraphSpec, hub: ModelHub, roles: RoleRegistry) -> Callable[[Item], Awaitable[str | None]]:
    graph = CompiledGraph(spec, hub, roles=roles)

    async def run(item: Item) -> str | None:
        return (await graph.run(item, answer_kind=KIND)).answer

    return run


async def _time(run: Callable[[Item], Awaitable[Any]], items: list[Item], runs: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) for `runs` sequential runs."""
    cpu, wall = process_time(), perf_counter()
    for i in range(runs):
        await run(items[i % len(items)])
    return process_time() - cpu, perf_counter() - wall


def _profile(run: Callable[[Item], Awaitable[Any]], items: list[Item], runs: int) -> list[dict[str, Any]]:
    """Where rolegraph's time goes (cumulative time per function, top entries)."""
    prof = cProfile.Profile()
    prof.enable()
    asyncio.run(_time(run, items, runs))
    prof.disable()  # (the profile's own overhead inflates every entry alike)
    stream = io.StringIO()
    stats = pstats.Stats(prof, stream=stream)
    rows = []
    for (file, line, func), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": f"{file.split('site-packages/')[-1].split('/work/main/')[-1]}:{line}({func})",
                     "calls": calls, "tottime_s": round(tottime, 4), "cumtime_s": round(cumtime, 4)})
    rows.sort(key=lambda r: -r["tottime_s"])
    return rows[:PROFILE_TOP]


def run(quick: bool = False, out_dir: Path | None = None, bench_run: BenchRun | None = None) -> dict[str, Any]:
    bench_run = bench_run or BenchRun()
    out_dir = out_dir or RESULTS_DIR
    cfg = QUICK if quick else FULL
    settings = Settings(home=bench_run.scratch_home(), cache=False)
    pool = ModelPool.builtin()
    roles = RoleRegistry.default()
    hub = ModelHub(pool, settings)
    model = SimChatModel(pool.get(MODEL), settings)
    items = synthetic_items(KIND, cfg["items"], seed=3)
    results, rows = [], []
    for kind in ("chain", "fan"):
        for n in cfg["sizes"]:
            spec = shape(kind, n)
            works = node_works(spec, roles, model)
            impls = {"rolegraph": rolegraph_runner(spec, hub, roles), "langgraph": handwritten_langgraph(spec, works),
                     "asyncio": asyncio_dag(spec, works)}
            check = {name: [asyncio.run(f(it)) for it in items[:5]] for name, f in impls.items()}
            if len({tuple(v) for v in check.values()}) != 1:
                raise AssertionError(f"{spec.name}: implementations disagree: {check}")
            runs = max(4, cfg["node_runs"] // n)
            per_node: dict[str, list[float]] = {name: [] for name in impls}
            wall: dict[str, list[float]] = {name: [] for name in impls}
            names = list(impls)
            for r in range(cfg["repeats"]):
                for name in names[r % 3:] + names[:r % 3]:  # rotate the order: load drifts hit all alike
                    cpu_s, wall_s = asyncio.run(_time(impls[name], items, runs))
                    per_node[name].append(cpu_s / (runs * n) * 1e6)
                    wall[name].append(wall_s / (runs * n) * 1e6)
            ratio = Spread.of([a / b for a, b in zip(per_node["rolegraph"], per_node["langgraph"])])
            floor = Spread.of([a / b for a, b in zip(per_node["rolegraph"], per_node["asyncio"])])
            wall_ratio = Spread.of([a / b for a, b in zip(wall["rolegraph"], wall["langgraph"])])
            us = {name: Spread.of(v) for name, v in per_node.items()}
            results.append({"shape": kind, "nodes": n, "runs_per_repeat": runs, "cpu_us_per_node": {
                k: v.as_dict() for k, v in us.items()}, "wall_us_per_node": {
                k: Spread.of(v).as_dict() for k, v in wall.items()}, "ratio_vs_langgraph": ratio.as_dict(),
                "wall_ratio_vs_langgraph": wall_ratio.as_dict(), "ratio_vs_asyncio": floor.as_dict(),
                "meets_goal": ratio.median <= GOAL_RATIO})
            rows.append([f"{kind}-{n}", us["asyncio"].text("{:.0f}"), us["langgraph"].text("{:.0f}"),
                         us["rolegraph"].text("{:.0f}"), ratio.text(), floor.text()])
            say(f"overhead {kind}-{n}: rolegraph/langgraph {ratio.text()}")
    worst = max(results, key=lambda r: r["ratio_vs_langgraph"]["median"])
    profile = []
    if worst["ratio_vs_langgraph"]["median"] > GOAL_RATIO or not quick:
        spec = shape(worst["shape"], worst["nodes"])
        profile = _profile(rolegraph_runner(spec, hub, roles), items, worst["runs_per_repeat"])
    text = table(["shape", "asyncio CPU us/node", "hand-written LangGraph CPU us/node", "rolegraph CPU us/node",
                  "rolegraph / LangGraph", "rolegraph / asyncio"], rows)
    text += f"\n\nGoal: rolegraph / hand-written LangGraph <= {GOAL_RATIO} on every shape. "
    text += f"Medians over {cfg['repeats']} interleaved repeats (min-max). Sim model {MODEL}, zero latency, no cache.\n"
    if profile:
        text += f"\nProfile of rolegraph on {worst['shape']}-{worst['nodes']} (top by own time):\n\n"
        text += table(["function", "calls", "own s", "cumulative s"],
                      [[p["function"], p["calls"], p["tottime_s"], p["cumtime_s"]] for p in profile])
    payload = {"goal_ratio": GOAL_RATIO, "model": MODEL, "config": cfg, "results": results,
               "meets_goal": all(r["meets_goal"] for r in results), "profile_worst": profile}
    bench_run.write_result("overhead", payload, text, out_dir=out_dir, quick=quick)
    return payload
