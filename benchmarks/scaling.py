"""Scaling: the optimizers' own cost per search iteration, and their memory, against the maximum node
count (4 to 32 nodes: with worker-to-worker edges, up to ~500 edge logits plus the output's).

Evaluation is not what is measured here, so items are scored by a constant-time stand-in executor
(seeded pseudo-random scores and node answers, the shape `evaluate` returns); the time spent in the
optimizer's `propose` and `observe` (sampling, repair under the budget, feedback, updates) and in the
whole loop iteration is measured, and peak traced memory (tracemalloc) in a second, traced run.
"""
from __future__ import annotations

import asyncio
import hashlib
import tracemalloc
from time import perf_counter
from pathlib import Path
from typing import Any

from benchmarks import graphgen as gg
from benchmarks.common import RESULTS_DIR, BenchRun, say, table
from benchmarks.synthetic import SyntheticTask
from rolegraph.evaluate.result import ItemScore, NodeUsage
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.api import make_optimizer
from rolegraph.optimize.choices import edge_pairs
from rolegraph.optimize.context import SearchConfig, SearchContext
from rolegraph.optimize.loop import run_search
from rolegraph.optimize.space import SearchSpace
from rolegraph.settings import Settings

OPTIMIZERS = ("agent-reinforce", "reinforce", "random", "tpe")
FULL = {"max_nodes": (4, 8, 16, 24, 32), "iterations": 8, "samples": 4, "batch": 4}
QUICK = {"max_nodes": (4, 8), "iterations": 2, "samples": 2, "batch": 2, "optimizers": ("agent-reinforce", "random")}
BYTES_PER_MB = 1024 * 1024


class StandInExecutor:
    """Scores items instantly: a seeded coin per (graph, item) and per node (the optimizer still sees
    accuracies that differ between graphs and per-node credit)."""

    name = "stand-in"
    in_process = False

    async def run_items(self, spec, task, items, results, simulated, *, hub=None, roles=None, concurrency=1, seed=0,
                        budget=None, advance=None) -> None:
        key = spec.model_copy(update={"name": "g"}).model_dump_json()
        for i, item in enumerate(items):
            node_scores = {n.id: float(_coin(key, item.id, n.id) < 0.5) for n in spec.nodes}
            score = node_scores[spec.output_id()]
            results[i] = ItemScore(item_id=item.id, score=score, answer=str(score), gold=item.gold,
                                   node_answers={n: str(s) for n, s in node_scores.items()}, node_scores=node_scores,
                                   node_usage={n.id: NodeUsage() for n in spec.nodes})
            simulated[i] = True

    def close(self) -> None:
        pass


def _coin(*parts: str) -> float:
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


class _Timed:
    """Wraps an optimizer, adding up the seconds spent in propose and observe."""

    def __init__(self, inner):
        self.inner, self.seconds = inner, 0.0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def propose(self, *args, **kwargs):
        start = perf_counter()
        try:
            return self.inner.propose(*args, **kwargs)
        finally:
            self.seconds += perf_counter() - start

    async def observe(self, *args, **kwargs):
        start = perf_counter()
        try:
            return await self.inner.observe(*args, **kwargs)
        finally:
            self.seconds += perf_counter() - start


def _search(name: str, max_nodes: int, cfg: dict, home) -> tuple[float, float, int]:
    """(optimizer seconds per iteration, loop seconds per iteration, edge logits)."""
    pool = ModelPool.builtin()
    space = SearchSpace(pool=pool, models=gg.SIM_SIZES[:3], roles=("solver", "verifier", "fuser"),
                        max_nodes=max_nodes, budget=None, worker_edges=True)
    task = SyntheticTask("math", 64, seed=3)
    config = SearchConfig(iterations=cfg["iterations"], samples=cfg["samples"], batch=cfg["batch"],
                          top_candidates=1, validation_items=cfg["batch"], test_items=1, compare_singles=False)
    hub = ModelHub(pool, Settings(home=home, cache=False))
    ctx = SearchContext(task=task, space=space, hub=hub, config=config, executor=StandInExecutor())
    timed = _Timed(make_optimizer(name))
    start = perf_counter()
    asyncio.run(run_search(ctx, timed, None, False))
    wall = perf_counter() - start
    edges = len(edge_pairs(space.worker_slots, space.worker_edges))
    return timed.seconds / cfg["iterations"], wall / cfg["iterations"], edges


def _peak_mb(name: str, max_nodes: int, cfg: dict, home) -> float:
    tracemalloc.start()
    try:
        _search(name, max_nodes, cfg, home)
        return tracemalloc.get_traced_memory()[1] / BYTES_PER_MB
    finally:
        tracemalloc.stop()


def run(quick: bool = False, out_dir: Path | None = None, bench_run: BenchRun | None = None) -> dict[str, Any]:
    bench_run = bench_run or BenchRun()
    out_dir = out_dir or RESULTS_DIR
    cfg = QUICK if quick else FULL
    home = bench_run.scratch_home()
    results, rows = [], []
    _search("random", cfg["max_nodes"][0], cfg, home)  # warm-up: imports and first-use costs out of the timings
    for name in cfg.get("optimizers", OPTIMIZERS):
        for n in cfg["max_nodes"]:
            opt_s, loop_s, edges = _search(name, n, cfg, home)
            peak = _peak_mb(name, n, cfg, home)
            results.append({"optimizer": name, "max_nodes": n, "edge_logits": edges,
                            "optimizer_ms_per_iteration": 1e3 * opt_s, "loop_ms_per_iteration": 1e3 * loop_s,
                            "peak_traced_mb": peak})
            rows.append([name, n, edges, f"{1e3 * opt_s:.1f}", f"{1e3 * loop_s:.1f}", f"{peak:.1f}"])
            say(f"scaling {name} max_nodes {n}: {1e3 * opt_s:.1f} ms/iteration in the optimizer, {peak:.1f} MB")
    text = table(["optimizer", "max nodes", "edge logits", "optimizer ms / iteration",
                  "whole loop ms / iteration (stand-in scores)", "peak traced MB"], rows)
    text += (f"\n\n{cfg['samples']} graphs per iteration, {cfg['iterations']} iterations, batch {cfg['batch']}; "
             "models 1B/3B/8B, roles solver/verifier/fuser, worker-to-worker edges allowed, no budget. "
             "Items are scored by a constant-time stand-in, so the times are the search machinery's own.\n")
    payload = {"config": cfg, "results": results}
    out_dir.mkdir(parents=True, exist_ok=True)
    bench_run.write_result("scaling", payload, text, out_dir=out_dir, quick=quick)
    return payload
