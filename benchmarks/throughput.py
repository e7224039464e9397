"""Throughput: item evaluations per second through the loopback HTTP server, against bare AsyncOpenAI.

The serve-sim app runs under uvicorn (`ServerThread`) in a separate process, as a remote server would,
so that the client stacks being compared do not share a GIL with it. rolegraph evaluates
a one-solver graph whose model is an `openai`-backend pool entry pointing at it (`answer_key: true`),
through `evaluate` (runtime, parsing, scoring, aggregation); the baseline sends the same requests (the
same messages, sampling and answer key) with a bare `openai.AsyncOpenAI` client at the same concurrency.
Two regimes: a zero-latency server (CPU-bound: the client stack's own cost shows) and a server that
sleeps its modelled latency times a scale (a remote model). Goal: rolegraph >= 0.8x the bare client.
Beside items per second (wall time, which on a shared machine also measures the neighbours), each
measurement records the client process's CPU time per item: with the server in another process that
is the client stack's own cost, and bare / rolegraph CPU per item is the ratio the CPU-bound regime
tends to when the client has a core to itself.
Peak memory for 1,000 items is measured in a fresh client subprocess (ru_maxrss).
"""
from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter, process_time
from pathlib import Path
from typing import Any

import openai

from benchmarks.common import RESULTS_DIR, BenchRun, Spread, UsageError, say, table
from benchmarks.synthetic import SyntheticTask
from rolegraph.agents.agent import build_messages
from rolegraph.agents.registry import RoleRegistry
from rolegraph.evaluate.runner import evaluate
from rolegraph.graphs.nodes import node_sample
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.sim.server import ServerThread, create_app
from rolegraph.chat.spec import EXTRA_FIELD, ModelSpec, is_loopback_url, public_url
from rolegraph.settings import Settings

GOAL_RATIO = 0.8
SIM_MODEL = "sim/llama-3.2-1b"
SERVED_ID = "served/llama-3.2-1b"
NODE_ID = "solver"
FULL = {"items": 400, "concurrency": 16, "repeats": 9, "latency_scales": (0.0, 0.2), "memory_items": 1000,
        "warmup_items": 20}
QUICK = {"items": 20, "concurrency": 8, "repeats": 1, "latency_scales": (0.0,), "memory_items": 30,
         "warmup_items": 2}
KB_PER_MB = 1024
MS_PER_S = 1000


def _measured(coro_fn, *args) -> tuple[float, float]:
    """(items/s as returned by `coro_fn`, client CPU seconds spent in the whole measurement)."""
    cpu = process_time()
    rate = asyncio.run(coro_fn(*args))
    return rate, process_time() - cpu


def served_pool(base_url: str, concurrency: int) -> ModelPool:
    builtin = ModelPool.builtin()
    sim = builtin.get(SIM_MODEL)
    served = ModelSpec(id=SERVED_ID, backend="openai", base_url=base_url, model=SIM_MODEL, answer_key=True,
                       params_b=sim.params_b, layers=sim.layers, hidden=sim.hidden, max_concurrency=concurrency)
    return ModelPool(list(builtin) + [served])


def graph() -> GraphSpec:
    return GraphSpec(name="one-solver", nodes=[NodeSpec(id=NODE_ID, role="solver", model=SERVED_ID)])


async def rolegraph_rate(pool: ModelPool, home, task: SyntheticTask, items: list[Item], concurrency: int) -> float:
    hub = ModelHub(pool, Settings(home=home, cache=False))
    start = perf_counter()
    result = await evaluate(graph(), task, items, hub=hub, concurrency=concurrency, progress=False)
    elapsed = perf_counter() - start
    await hub.aclose()
    if result.failures:
        raise AssertionError(f"{result.failures} rolegraph runs failed")
    return len(items) / elapsed


def gold_stays_home(base_url: str) -> str:
    """`base_url`, if gold answers may be sent there: the bare client bypasses the pool entry's check
    (`answer_key: true` only on loopback), so the same rule is applied here before any answer key leaves."""
    if not is_loopback_url(base_url):
        raise UsageError(
            f"the bare client sends gold answers in request bodies, so it runs only against a loopback serve-sim "
            f"(127.0.0.0/8, ::1, localhost), not {public_url(base_url) or 'that URL'}"
        )
    return base_url


async def bare_rate(base_url: str, items: list[Item], concurrency: int) -> float:
    """The same requests with a bare client: one create() per item under a semaphore."""
    gold_stays_home(base_url)
    roles = RoleRegistry.default()
    solver = roles.get("solver")
    system = solver.render(roles.answer_format("math"))
    client = openai.AsyncOpenAI(base_url=base_url, api_key="not-needed", max_retries=0)
    gate = asyncio.Semaphore(concurrency)

    async def one(item: Item) -> str:
        async with gate:
            resp = await client.chat.completions.create(
                model=SIM_MODEL, messages=build_messages(system, item.question, []), temperature=solver.temperature,
                max_tokens=solver.max_tokens, seed=0,
                extra_body={EXTRA_FIELD: {"sample": node_sample(NODE_ID),
                                          "answer_key": item.answer_key().model_dump()}})
            return resp.choices[0].message.content or ""

    start = perf_counter()
    await asyncio.gather(*(one(it) for it in items))
    elapsed = perf_counter() - start
    await client.close()
    return len(items) / elapsed


def serve(latency_scale: float) -> None:
    """Subprocess entry: serve the sim pool on loopback, print the base URL, run until stdin closes."""
    bench_run = BenchRun()  # this process's own: it writes no result, so its scratch home goes when it ends
    settings = Settings(home=bench_run.scratch_home(), cache=False, latency_scale=latency_scale)
    try:
        with ServerThread(create_app(ModelPool.builtin(), settings)) as server:
            print(server.base_url, flush=True)
            sys.stdin.read()
    finally:
        bench_run.remove_scratch()


@contextmanager
def server_process(latency_scale: float) -> Iterator[str]:
    """A serve-sim server in its own process; yields its base URL."""
    code = f"from benchmarks.throughput import serve; serve({latency_scale!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip() if proc.stdout else ""
        if not line.startswith("http"):
            raise RuntimeError("the serve-sim subprocess did not start")
        yield line
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=30)


def memory_probe(n_items: int, concurrency: int) -> dict[str, float]:
    """In this (fresh) process: peak RSS after imports, and after evaluating `n_items` through a server process."""
    bench_run = BenchRun()  # this (fresh) process's own: it writes no result
    home = bench_run.scratch_home()
    task = SyntheticTask("math", n_items, seed=11)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with server_process(0.0) as base_url:
            asyncio.run(rolegraph_rate(served_pool(base_url, concurrency), home, task, task.all_items(), concurrency))
    finally:
        bench_run.remove_scratch()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"items": n_items, "rss_after_imports_mb": before / KB_PER_MB, "peak_rss_mb": after / KB_PER_MB,
            "growth_mb": (after - before) / KB_PER_MB}


def _memory_in_subprocess(n_items: int, concurrency: int) -> dict[str, float]:
    code = (f"import json; from benchmarks.throughput import memory_probe; "
            f"print(json.dumps(memory_probe({n_items}, {concurrency})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool = False, out_dir: Path | None = None, bench_run: BenchRun | None = None) -> dict[str, Any]:
    bench_run = bench_run or BenchRun()
    out_dir = out_dir or RESULTS_DIR
    cfg = QUICK if quick else FULL
    home = bench_run.scratch_home()
    task = SyntheticTask("math", cfg["items"], seed=9)
    items = task.all_items()
    results, rows = [], []
    for scale in cfg["latency_scales"]:
        with server_process(scale) as base_url:
            pool = served_pool(base_url, cfg["concurrency"])
            ours, bare, ours_cpu, bare_cpu = [], [], [], []
            asyncio.run(rolegraph_rate(pool, home, task, items[:cfg["warmup_items"]], cfg["concurrency"]))
            asyncio.run(bare_rate(base_url, items[:cfg["warmup_items"]], cfg["concurrency"]))
            for r in range(cfg["repeats"]):
                order = ("rolegraph", "bare") if r % 2 == 0 else ("bare", "rolegraph")
                for name in order:
                    if name == "rolegraph":
                        rate, cpu = _measured(rolegraph_rate, pool, home, task, items, cfg["concurrency"])
                        ours.append(rate)
                        ours_cpu.append(cpu / len(items) * MS_PER_S)
                    else:
                        rate, cpu = _measured(bare_rate, base_url, items, cfg["concurrency"])
                        bare.append(rate)
                        bare_cpu.append(cpu / len(items) * MS_PER_S)
        ratio = Spread.of([a / b for a, b in zip(ours, bare)])
        cpu_ratio = Spread.of([b / a for a, b in zip(ours_cpu, bare_cpu)])
        a, b = Spread.of(ours), Spread.of(bare)
        a_cpu, b_cpu = Spread.of(ours_cpu), Spread.of(bare_cpu)
        label = "zero latency (CPU-bound)" if scale == 0 else f"sim latency x {scale} (a remote model)"
        results.append({"server": label, "latency_scale": scale, "rolegraph_items_per_s": a.as_dict(),
                        "bare_items_per_s": b.as_dict(), "ratio": ratio.as_dict(),
                        "rolegraph_client_cpu_ms_per_item": a_cpu.as_dict(),
                        "bare_client_cpu_ms_per_item": b_cpu.as_dict(), "cpu_ratio": cpu_ratio.as_dict(),
                        "meets_goal": ratio.median >= GOAL_RATIO})
        rows.append([label, cfg["concurrency"], a.text("{:.0f}"), b.text("{:.0f}"), ratio.text(),
                     a_cpu.text(), b_cpu.text(), cpu_ratio.text()])
        say(f"throughput {label}: ratio {ratio.text()}, client CPU ratio {cpu_ratio.text()}")
    memory = _memory_in_subprocess(cfg["memory_items"], cfg["concurrency"])
    text = table(["server", "concurrency", "rolegraph items/s", "bare AsyncOpenAI items/s", "ratio",
                  "rolegraph client CPU ms/item", "bare client CPU ms/item", "CPU ratio (bare / rolegraph)"], rows)
    text += (f"\n\nGoal: ratio >= {GOAL_RATIO}. {cfg['items']} items per measurement, a one-solver graph on "
             f"{SIM_MODEL} served over loopback HTTP; medians over {cfg['repeats']} alternating repeats (min-max). "
             "CPU: the client process's CPU time per item (the server runs in its own process).\n\n")
    text += (f"Peak memory evaluating {memory['items']} items (fresh client process; the server runs apart): "
             f"{memory['peak_rss_mb']:.0f} MB peak RSS, {memory['growth_mb']:.0f} MB above the "
             f"{memory['rss_after_imports_mb']:.0f} MB after imports.\n")
    payload = {"goal_ratio": GOAL_RATIO, "config": cfg, "results": results, "memory": memory,
               "meets_goal": all(r["meets_goal"] for r in results)}
    bench_run.write_result("throughput", payload, text, out_dir=out_dir, quick=quick)
    return payload
