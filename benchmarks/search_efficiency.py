"""Search efficiency on the sim, against the exhaustive optimum of a space small enough to enumerate.

Space: up to 5 worker nodes (solver or fuser) feeding one output node, over the four sim sizes
(70B alone exceeds both budgets and is left out by the space), MATH family, budgets 18 and 42 FLOPs
units. Ground truth: every distinct graph of the space scored on thousands of fresh items (cached,
`truth.py`); the optimum is the best of them. Then each optimizer (agent-reinforce, reinforce,
random, tpe) searches with 10 seeds on a synthetic MATH-family task; after every iteration the graph
it would pick (its best so far) is looked up in the truth table, against the evaluation cost spent
so far, counted in item-level graph runs (the pilot and the final re-check of the top candidates
count too). Reported: median evaluations to reach 98% of the optimum, the final gap, the curves.
Goal: agent-reinforce needs half the evaluations of the best baseline or fewer.

Item evaluations go through `SimTableExecutor` (the runtime's scores, checked against `evaluate` on a
sample first), so a search costs CPU seconds, not hours.
"""
from __future__ import annotations

import asyncio
import math
import statistics
from pathlib import Path
from typing import Any

from benchmarks import graphgen as gg
from benchmarks.common import RESULTS_DIR, say, scratch_home, table, write_result
from benchmarks.simexec import SimExecutor, SimTableExecutor, check_executor_against_evaluate
from benchmarks.synthetic import SyntheticTask, synthetic_items
from benchmarks.truth import TruthTable, shape_key, unique_shapes
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.api import make_optimizer
from rolegraph.optimize.baselines.exhaustive import enumerate_graphs
from rolegraph.optimize.context import SearchConfig, SearchContext
from rolegraph.optimize.loop import run_search
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.trace import CHARGED_PHASES
from rolegraph.settings import Settings

OPTIMIZERS = ("agent-reinforce", "reinforce", "random", "tpe")
BASELINES = ("reinforce", "random", "tpe")
TARGET_SHARE = 0.98
GOAL_FACTOR = 0.5
ROLES = ("solver", "fuser")
FULL = {"budgets": (18.0, 42.0), "seeds": 10, "truth_items": 4000, "task_items": 2000, "max_evaluations": 3000,
        "samples": 4, "batch": 16, "validation_items": 48, "top_candidates": 3, "max_nodes": 6, "check_items": 8}
QUICK = {"budgets": (18.0,), "seeds": 1, "truth_items": 60, "task_items": 120, "max_evaluations": 120,
         "samples": 2, "batch": 4, "validation_items": 8, "top_candidates": 2, "max_nodes": 3, "check_items": 2}
TRUTH_SEED, TASK_SEED = 1001, 7
GRID_POINTS = 40


def make_space(pool: ModelPool, budget: float, max_nodes: int) -> SearchSpace:
    return SearchSpace(pool=pool, models=gg.SIM_SIZES, roles=ROLES, max_nodes=max_nodes, budget=budget,
                       worker_edges=False, family="math")


def first_reach(curve: list[tuple[int, float]], target: float) -> float:
    """Evaluations at which the curve's true accuracy first reaches `target` (inf if never)."""
    return next((float(e) for e, a in curve if a >= target - 1e-12), math.inf)


def reach_and_stay(curve: list[tuple[int, float]], target: float) -> float:
    """Evaluations from which the graph it would pick stays at or above `target` to the end (inf if the
    final choice is below it): a search that passes the optimum by luck and drops it has not found it."""
    at = math.inf
    for e, a in curve:
        if a >= target - 1e-12:
            at = min(at, float(e))
        else:
            at = math.inf
    return at


def on_grid(curve: list[tuple[int, float]], grid: list[int]) -> list[float | None]:
    """The curve as a step function sampled at `grid` (None before its first point)."""
    out, j, cur = [], 0, None
    for g in grid:
        while j < len(curve) and curve[j][0] <= g:
            cur = curve[j][1]
            j += 1
        out.append(cur)
    return out


async def one_search(name: str, seed: int, space: SearchSpace, task: SyntheticTask, hub: ModelHub,
                     table_exec: SimTableExecutor, truth: TruthTable, cfg: dict, optimum_key: str = "") -> dict[str, Any]:
    """One search; its curve is (evaluations spent, true accuracy of the graph it would pick then).

    Also counts how the search's evidence on the optimum was spread over hashes: the trace pools
    isomorphic copies under one hash, so "copies" is 1 whenever the optimum was scored."""
    config = SearchConfig(iterations=None, max_evaluations=cfg["max_evaluations"], samples=cfg["samples"],
                          batch=cfg["batch"], top_candidates=cfg["top_candidates"],
                          validation_items=cfg["validation_items"], test_items=1, seed=seed, compare_singles=False)
    ctx = SearchContext(task=task, space=space, hub=hub, config=config, executor=table_exec)
    final = await run_search(ctx, make_optimizer(name), None, False)
    curve = [(it.evaluations, truth.accuracy(ctx.graph(it.best_hash))) for it in ctx.trace.iterations
             if it.best_hash is not None]
    final_acc = truth.accuracy(ctx.graph(final.chosen_hash))
    curve.append((ctx.spent, final_acc))
    items_by_hash: dict[str, int] = {}
    for r in ctx.trace.records:
        if r.phase in CHARGED_PHASES:
            items_by_hash[r.graph_hash] = items_by_hash.get(r.graph_hash, 0) + r.n
    on_optimum = [n for h, n in items_by_hash.items() if shape_key(ctx.graph(h)) == optimum_key]
    return {"optimizer": name, "seed": seed, "curve": curve, "final_accuracy": final_acc, "evaluations": ctx.spent,
            "iterations": sum(1 for it in ctx.trace.iterations if it.iteration > 0),
            "distinct_graphs": len(ctx.graphs), "distinct_shapes": len({shape_key(ctx.graph(h)) for h in ctx.graphs}),
            "optimum_copies": len(on_optimum), "optimum_items": sum(on_optimum),
            "optimum_items_best_copy": max(on_optimum, default=0),
            "final_graph": ctx.graph(final.chosen_hash).model_dump(mode="json", exclude_defaults=True)}


GOAL_METRICS = ("median_first_touch_98pct", "median_evaluations_to_98pct")
GOAL_METRICS_TEXT = {"median_first_touch_98pct": "first reach", "median_evaluations_to_98pct": "reach and stay"}


def _goal(summary: dict[str, dict], metric: str) -> dict[str, Any]:
    """agent-reinforce against the best baseline on one metric (lower is better; inf = never)."""
    best = min(BASELINES, key=lambda n: summary[n][metric])
    ours, theirs = summary["agent-reinforce"][metric], summary[best][metric]
    meets = math.isfinite(ours) and (not math.isfinite(theirs) or ours <= GOAL_FACTOR * theirs)
    return {"best_baseline": best, "agent": ours, "baseline": theirs, "meets": meets}


def summarize(runs: list[dict], optimum: float) -> dict[str, Any]:
    target = TARGET_SHARE * optimum
    reach = [reach_and_stay(r["curve"], target) for r in runs]
    first = [first_reach(r["curve"], target) for r in runs]
    gaps = [optimum - r["final_accuracy"] for r in runs]
    return {"median_evaluations_to_98pct": statistics.median(reach), "reached": sum(math.isfinite(x) for x in reach),
            "runs": len(runs), "evaluations_to_98pct": reach, "median_final_gap": statistics.median(gaps),
            "median_first_touch_98pct": statistics.median(first), "first_touch_98pct": first,
            "median_optimum_copies": statistics.median(r["optimum_copies"] for r in runs),
            "median_optimum_items": statistics.median(r["optimum_items"] for r in runs),
            "median_optimum_items_best_copy": statistics.median(r["optimum_items_best_copy"] for r in runs),
            "final_gaps": gaps, "median_final_accuracy": statistics.median(r["final_accuracy"] for r in runs)}


def plot(per_budget: dict[float, dict], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(per_budget), figsize=(6 * len(per_budget), 4.2), squeeze=False)
    for ax, (budget, data) in zip(axes[0], per_budget.items()):
        grid = data["grid"]
        for name, med in data["median_curves"].items():
            xs = [g for g, v in zip(grid, med) if v is not None]
            ax.plot(xs, [100 * v for v in med if v is not None], label=name)
        ax.axhline(100 * data["optimum"], color="black", lw=0.8, ls="--", label="exhaustive optimum")
        ax.axhline(100 * TARGET_SHARE * data["optimum"], color="grey", lw=0.8, ls=":", label="98% of optimum")
        ax.set_title(f"budget {budget:g} FLOPs units (simulated MATH)")
        ax.set_xlabel("evaluations (item-level graph runs)")
        ax.set_ylabel("true accuracy of the chosen graph %")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fmt_evals(x: float, cap: int) -> str:
    return f"> {cap}" if not math.isfinite(x) else f"{x:.0f}"


def run(quick: bool = False, out_dir: Path | None = None) -> dict[str, Any]:
    out_dir = out_dir or RESULTS_DIR
    cfg = QUICK if quick else FULL
    home = scratch_home()
    pool = ModelPool.builtin()
    ex = SimExecutor(Settings(home=home, cache=False), pool)
    table_exec = SimTableExecutor(ex)
    hub = ModelHub(pool, Settings(home=home, cache=False))
    task = SyntheticTask("math", cfg["task_items"], seed=TASK_SEED)
    truth_items = synthetic_items("math", cfg["truth_items"], seed=TRUTH_SEED)
    per_budget: dict[float, dict] = {}
    rows, goal_rows = [], []
    for budget in cfg["budgets"]:
        space = make_space(pool, budget, cfg["max_nodes"])
        graphs = [spec for _, spec in enumerate_graphs(space)]
        if not unique_shapes(graphs):
            raise AssertionError("two enumerated graphs share a shape key")
        checked = check_executor_against_evaluate(table_exec, graphs[:: max(1, len(graphs) // 3)][:3], task,
                                                  task.items("train")[:cfg["check_items"]])
        truth = TruthTable(ex, truth_items, name="truth-math", results_dir=out_dir)
        accs = {}
        for i, spec in enumerate(graphs):
            accs[shape_key(spec)] = truth.accuracy(spec)
            if i % 25 == 0:
                truth.save()
                say(f"search_efficiency budget {budget:g}: truth {i + 1}/{len(graphs)}")
        truth.save()
        best_key = max(accs, key=accs.__getitem__)
        optimum = accs[best_key]
        best_spec = next(s for s in graphs if shape_key(s) == best_key)
        say(f"search_efficiency budget {budget:g}: {len(graphs)} graphs, optimum {optimum:.3f}")
        runs: dict[str, list[dict]] = {}
        for name in OPTIMIZERS:
            runs[name] = [asyncio.run(one_search(name, seed, space, task, hub, table_exec, truth, cfg, best_key))
                          for seed in range(cfg["seeds"])]
            truth.save()
            say(f"search_efficiency budget {budget:g}: {name} done")
        summary = {name: summarize(r, optimum) for name, r in runs.items()}
        grid = [round(cfg["max_evaluations"] * k / GRID_POINTS) for k in range(1, GRID_POINTS + 1)]
        median_curves = {}
        for name, rs in runs.items():
            cols = list(zip(*[on_grid(r["curve"], grid) for r in rs]))
            median_curves[name] = [statistics.median(c) if all(v is not None for v in c) else None for c in cols]
        goal = {metric: _goal(summary, metric) for metric in GOAL_METRICS}
        meets = goal[GOAL_METRICS[0]]["meets"]
        per_budget[budget] = {"graphs": len(graphs), "optimum": optimum,
                              "optimum_graph": best_spec.model_dump(mode="json", exclude_defaults=True),
                              "summary": summary, "runs": runs, "grid": grid, "median_curves": median_curves,
                              "goal": goal, "meets_goal": meets, "executor_check_runs": checked,
                              "accuracy_spread": {"min": min(accs.values()), "max": optimum,
                                                  "median": statistics.median(accs.values())}}
        cap = cfg["max_evaluations"]
        for name in OPTIMIZERS:
            sm = summary[name]
            rows.append([f"{budget:g}", name, _fmt_evals(sm["median_first_touch_98pct"], cap),
                         _fmt_evals(sm["median_evaluations_to_98pct"], cap), f"{sm['reached']}/{sm['runs']}",
                         f"{100 * sm['median_final_gap']:.1f}", f"{100 * sm['median_final_accuracy']:.1f}",
                         f"{sm['median_optimum_copies']:g} / {sm['median_optimum_items']:g} / "
                         f"{sm['median_optimum_items_best_copy']:g}"])
        for metric, g in goal.items():
            goal_rows.append([f"{budget:g}", len(graphs), f"{100 * optimum:.1f}", GOAL_METRICS_TEXT[metric],
                              g["best_baseline"], _fmt_evals(g["agent"], cap), _fmt_evals(g["baseline"], cap),
                              "yes" if g["meets"] else "NO"])
    stem = "search_efficiency-quick" if quick else "search_efficiency"
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_path = out_dir / f"{stem}.png"
    plot(per_budget, plot_path)
    text = table(["budget", "optimizer", "median evals to first reach 98% of optimum",
                  "median evals to reach and stay", "seeds that stay", "median final gap (points)",
                  "median final true accuracy %", "optimum: copies / items / items on best copy"], rows)
    text += "\n\n" + table(["budget", "graphs in space", "optimum % (simulated)", "metric", "best baseline",
                            "agent-reinforce evals", "best baseline evals", "agent <= half"], goal_rows)
    text += (f"\n\nSeeds {cfg['seeds']}, evaluation budget {cfg['max_evaluations']} item runs per search, "
             f"batch {cfg['batch']}, {cfg['samples']} graphs per iteration; truth over {cfg['truth_items']} items. "
             f"Plot: `{plot_path.name}`.\n")
    payload = {"config": cfg, "budgets": {str(b): v for b, v in per_budget.items()},
               "meets_goal": all(v["meets_goal"] for v in per_budget.values()), "plot": plot_path.name}
    write_result("search_efficiency", payload, text, out_dir=out_dir, quick=quick)
    return payload
