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
from typing import Annotated, Any

import typer

from benchmarks.common import RESULTS_DIR, BenchRun, say, table
from benchmarks.options import parse_numbers
from benchmarks.searchbench import TARGET_SHARE, Bench, on_grid, summarize
from benchmarks.searchbench import fmt_evals as _fmt_evals
from rolegraph.models.pool import ModelPool

OPTIMIZERS = ("agent-reinforce", "reinforce", "random", "tpe")
BASELINES = ("reinforce", "random", "tpe")
GOAL_FACTOR = 0.5
FULL = {"budgets": (18.0, 42.0), "seeds": 10, "truth_items": 4000, "task_items": 2000, "max_evaluations": 3000,
        "samples": 4, "batch": 16, "validation_items": 48, "top_candidates": 3, "max_nodes": 6, "check_items": 8}
QUICK = {"budgets": (18.0,), "seeds": 1, "truth_items": 60, "task_items": 120, "max_evaluations": 120,
         "samples": 2, "batch": 4, "validation_items": 8, "top_candidates": 2, "max_nodes": 3, "check_items": 2}
GRID_POINTS = 40


GOAL_METRICS = ("median_first_touch_98pct", "median_evaluations_to_98pct")
GOAL_METRICS_TEXT = {"median_first_touch_98pct": "first reach", "median_evaluations_to_98pct": "reach and stay"}


def _goal(summary: dict[str, dict], metric: str) -> dict[str, Any]:
    """agent-reinforce against the best baseline on one metric (lower is better; inf = never)."""
    best = min(BASELINES, key=lambda n: summary[n][metric])
    ours, theirs = summary["agent-reinforce"][metric], summary[best][metric]
    meets = math.isfinite(ours) and (not math.isfinite(theirs) or ours <= GOAL_FACTOR * theirs)
    return {"best_baseline": best, "agent": ours, "baseline": theirs, "meets": meets}


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


def _seed_arg(seeds: list[int]) -> str:
    """`--seeds` as typed: A-B for a run of seeds, else a comma list."""
    contiguous = seeds == list(range(seeds[0], seeds[-1] + 1))
    return f"{seeds[0]}-{seeds[-1]}" if contiguous else ",".join(map(str, seeds))


def parse_seeds(text: str) -> tuple[int, ...]:
    return parse_numbers(text, "seeds")


def options(
    seeds: Annotated[Any, typer.Option(parser=parse_seeds, metavar="SEEDS", help=(
        "Search seeds, e.g. 10-39 (default 0-9: the seeds the agent was tuned on); another range writes "
        "search_efficiency-seeds<A>-<B>.*"))] = None,
) -> dict[str, Any]:
    """The command line's own options (`python -m benchmarks search_efficiency --help`), as `run`'s keywords."""
    return locals()


def run(quick: bool = False, out_dir: Path | None = None, seeds: tuple[int, ...] | None = None,
        bench_run: BenchRun | None = None) -> dict[str, Any]:
    bench_run = bench_run or BenchRun()
    out_dir = out_dir or RESULTS_DIR
    cfg = QUICK if quick else FULL
    seed_list = list(seeds) if seeds is not None else list(range(cfg["seeds"]))
    bench = Bench(ModelPool.builtin(), bench_run.scratch_home(), out_dir)
    per_budget: dict[float, dict] = {}
    rows, goal_rows = [], []
    for budget in cfg["budgets"]:
        setting = bench.setting("math", budget, cfg)
        graphs, accs, optimum, best_spec = setting.graphs, setting.accuracies, setting.optimum, setting.optimum_graph
        checked = setting.executor_check_runs
        runs: dict[str, list[dict]] = {}
        for name in OPTIMIZERS:
            runs[name] = [asyncio.run(bench.search(name, seed, setting, cfg)) for seed in seed_list]
            setting.save()
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
    default_seeds = seed_list == list(range(cfg["seeds"]))
    file_stem = "search_efficiency" if default_seeds else f"search_efficiency-seeds{_seed_arg(seed_list)}"
    stem = f"{file_stem}-quick" if quick else file_stem
    options = "" if default_seeds else f"--seeds {_seed_arg(seed_list)}"
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_path = out_dir / f"{stem}.png"
    plot(per_budget, plot_path)
    text = table(["budget", "optimizer", "median evals to first reach 98% of optimum",
                  "median evals to reach and stay", "seeds that stay", "median final gap (points)",
                  "median final true accuracy %", "optimum: copies / items / items on best copy"], rows)
    text += "\n\n" + table(["budget", "graphs in space", "optimum % (simulated)", "metric", "best baseline",
                            "agent-reinforce evals", "best baseline evals", "agent <= half"], goal_rows)
    text += (f"\n\nSeeds {_seed_arg(seed_list)} ({len(seed_list)}), evaluation budget {cfg['max_evaluations']} item "
             "runs per search, "
             f"batch {cfg['batch']}, {cfg['samples']} graphs per iteration; truth over {cfg['truth_items']} items. "
             f"Plot: `{plot_path.name}`.\n")
    payload = {"simulated": True, "config": {**cfg, "seeds": len(seed_list)}, "seed_list": seed_list,
               "budgets": {str(b): v for b, v in per_budget.items()},
               "meets_goal": all(v["meets_goal"] for v in per_budget.values()), "plot": plot_path.name}
    bench_run.write_result("search_efficiency", payload, text, out_dir=out_dir, quick=quick, options=options,
                           file_stem=file_stem)
    return payload
