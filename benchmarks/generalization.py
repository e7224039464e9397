"""Generalization: does a search method's advantage hold on landscapes it was not tuned on?

For each sim world x task family x FLOPs budget (a *setting*), the exhaustive optimum of the ensemble
space (`searchbench.Setting`: every distinct graph scored on 1,000 fresh items, those within 5 points of
the best on 4,000, those within 3 points on 16,000 items of their own, which set the optimum) and K
searches per optimizer, judged as in `search_efficiency`: evaluations (item runs, pilot and final
re-check included) until the graph the search would choose is first within 98% of the optimum ("first
reach"), and until it stays there to the end ("reach and stay"). A search that never gets there counts
as the whole evaluation budget (censored), and the tables say how many did not.

Per setting: agent-reinforce's median / the best baseline's median (random, reinforce, TPE; the lowest
of the three), on both measures; then the median and the worst of those ratios over settings, with
the worlds the agent was tuned on (`TUNED_WORLDS`) and the held-out ones reported apart. Ablations
(the pilot alone, the cross-entropy method on the same distribution) and the agent's earlier designs
(`agent-reinforce:gp`, `agent-reinforce:v1`) are reported beside it, against the same best baseline;
they are not baselines. Every method is also compared with the agent search by search (`paired.py`: same
setting and seed, so the same batches), the finer instrument.

`python -m benchmarks generalization [--worlds A-B] [--families math,mmlu,code] [--budgets 18,30,42]
[--seeds K] [--jobs N] [--json]`; settings run in `--jobs` processes, one per (world, family). Other worlds,
families, budgets, seeds or optimizers than the default write
`generalization-w<worlds>[-f<families>][-b<budgets>][-s<seeds>][-ablations-<names>].*` (`result_stem`).
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from benchmarks import paired as pairing
from benchmarks.common import (
    RESULTS_DIR,
    BenchRun,
    UsageError,
    in_processes,
    numbers_label,
    require_positive,
    say,
    table,
)
from benchmarks.options import csv_list, parse_worlds, positive_int
from benchmarks.searchbench import MEASURES, TARGET_SHARE, Bench, censored, first_reach, reach_and_stay, shape_index
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool

AGENT = "agent-reinforce"
BASELINES = ("random", "reinforce", "tpe")
MEASURE_KEYS = (("first", "first_reach"), ("stay", "stay"))  # a measure and its name in the summary's keys
ABLATIONS = ("agent-reinforce:pilot-only", "agent-reinforce:no-identify", "cem", "agent-reinforce:gp",
             "agent-reinforce:v1")
"""Reported beside the agent, not baselines: three ablations of it (its pilot alone; the agent without its
identification phase; the cross-entropy method on its distribution) and the two earlier designs (the
Gaussian-process agent, the pre-issue-14 agent)."""
OPTIMIZERS = (AGENT, *BASELINES, *ABLATIONS)
TUNED_WORLDS = range(0, 20)
"""Worlds the optimizer's choices were tuned on; every other world is held out."""
DEFAULT_WORLDS = tuple(range(100, 106))
FAMILIES = ("math", "mmlu", "code")
BUDGETS = (18.0, 30.0, 42.0)
ISSUE_BUDGETS = (18.0, 30.0)
"""The budgets of the issue's check: a run on other worlds at these budgets names only its worlds."""
MEASURE_TEXT = {"first": "first reach", "stay": "reach and stay"}
GOAL_MEDIAN, GOAL_WORST, GOAL_GAP_POINTS = 0.5, 1.2, 1.0
FULL = {"seeds": 4, "truth_items": 1000, "fine_truth_items": 4000, "fine_margin": 0.05, "exact_truth_items": 16000,
        "exact_margin": 0.03, "task_items": 2000,
        "max_evaluations": 3000, "samples": 4, "batch": 16, "validation_items": 48, "top_candidates": 3,
        "max_nodes": 6, "check_items": 4, "jobs": 2}
QUICK = {"seeds": 1, "truth_items": 60, "fine_truth_items": 0, "fine_margin": 0.0, "task_items": 160,
         "max_evaluations": 160, "samples": 2, "batch": 4, "validation_items": 8, "top_candidates": 2,
         "max_nodes": 3, "check_items": 2, "jobs": 1}
QUICK_SCOPE = {"worlds": (0,), "families": ("math", "mmlu"), "budgets": (18.0,)}


def world_pool(world: int) -> ModelPool:
    """The built-in sim pool of `world` (0: the calibrated world)."""
    return ModelPool.builtin(world=world)


def options(
    worlds: Annotated[Any, typer.Option(parser=parse_worlds, metavar="WORLDS", help=(
        f"Sim worlds, e.g. 100-119 or 0,3,5 (default {DEFAULT_WORLDS[0]}-{DEFAULT_WORLDS[-1]})."))] = None,
    families: Annotated[Any, typer.Option(parser=csv_list(str, FAMILIES), metavar="LIST",
                                          help="Default math,mmlu,code.")] = None,
    budgets: Annotated[Any, typer.Option(parser=csv_list(float), metavar="LIST",
                                         help="FLOPs units, default 18,30,42.")] = None,
    seeds: Annotated[int | None, typer.Option(parser=positive_int, metavar="K",
                                       help="Searches per optimizer and setting (default 4).")] = None,
    jobs: Annotated[int | None, typer.Option(parser=positive_int, metavar="N",
                                             help="Worker processes (default 2).")] = None,
    optimizers: Annotated[Any, typer.Option(parser=csv_list(str, OPTIMIZERS), metavar="LIST",
                                            help="Default: the agent, the three baselines and the ablations.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="End with one line: the summary as JSON.")] = False,
) -> dict[str, Any]:
    """The command line's own options (`python -m benchmarks generalization --help`), as `run`'s keywords."""
    return locals()


def _job(bench_run: BenchRun, world: int, family: str, budgets: tuple[float, ...], optimizers: tuple[str, ...],
         cfg: dict[str, Any], out_dir: Path) -> list[dict[str, Any]]:
    """One world and family, every budget: the truth, then every search (a worker process's unit)."""
    bench = Bench(world_pool(world), bench_run.scratch_home(), out_dir, world=world)
    out = []
    try:
        for budget in budgets:
            setting = bench.setting(family, budget, cfg)
            target = TARGET_SHARE * setting.optimum
            runs: dict[str, list[dict]] = {}
            for name in optimizers:
                runs[name] = []
                for seed in range(cfg["seeds"]):
                    r = asyncio.run(bench.search(name, seed, setting, cfg))
                    runs[name].append({"seed": seed, "first": first_reach(r["curve"], target),
                                       "stay": reach_and_stay(r["curve"], target),
                                       "final_gap": setting.optimum - r["final_accuracy"],
                                       "final_graph": r["final_graph"], "evaluations": r["evaluations"],
                                       "p_best": r["p_best"], "best_of_candidates": r["best_of_candidates"],
                                       "choices": r["choices"], "picked": r["picked"]})
                setting.save()
            say(f"{setting.label()}: searches done")
            out.append({"world": world, "family": family, "budget": budget, "graphs": len(setting.graphs),
                        "optimum": setting.optimum,
                        "optimum_graph": setting.optimum_graph.model_dump(mode="json", exclude_defaults=True),
                        "fine_graphs": len(setting.fine_keys), "exact_graphs": len(setting.exact_keys),
                        "picked": pool_picks(runs), "runs": runs})
            bench.table.close()  # the next budget's searches share few (graph, item) runs with this one's
    finally:
        bench.close()
    return out


def pool_picks(runs: dict[str, list[dict]]) -> list[dict]:
    """The graphs every search of a setting would have picked, each stored once for the setting: each run's own
    `picked` list is dropped and its `choices` (evaluations, index) re-pointed into the one returned."""
    shapes: list = []
    for rs in runs.values():
        for r in rs:
            index = [shape_index(shapes, GraphSpec.model_validate(spec)) for spec in r.pop("picked")]
            r["choices"] = [(e, index[i]) for e, i in r["choices"]]
    return [k.spec.model_dump(mode="json", exclude_defaults=True) for k in shapes]


def judge(setting: dict[str, Any], cap: int) -> dict[str, Any]:
    """Per optimizer: censored medians and misses; per measure: the best baseline and each method's ratio."""
    med: dict[str, dict[str, float]] = {}
    misses: dict[str, dict[str, int]] = {}
    gaps: dict[str, float] = {}
    for name, runs in setting["runs"].items():
        med[name] = {m: statistics.median(censored(r[m], cap) for r in runs) for m in MEASURES}
        misses[name] = {m: sum(not math.isfinite(r[m]) for r in runs) for m in MEASURES}
        gaps[name] = statistics.median(r["final_gap"] for r in runs)
    best = {m: min((b for b in BASELINES if b in med), key=lambda b: med[b][m]) for m in MEASURES}
    ratios = {name: {m: med[name][m] / med[best[m]][m] for m in MEASURES} for name in med}
    return {"median": med, "misses": misses, "final_gap": gaps, "best_baseline": best, "ratio": ratios}


def overall(judged: list[dict[str, Any]], name: str = AGENT) -> dict[str, Any]:
    """Median and worst ratio over settings on both measures, and the median final gap (points)."""
    if not judged:
        return {"settings": 0}
    out: dict[str, Any] = {"settings": len(judged)}
    for m, key in MEASURE_KEYS:
        vals = [j["ratio"][name][m] for j in judged]
        out[f"median_{key}_ratio"] = round(statistics.median(vals), 4)
        out[f"worst_{key}_ratio"] = round(max(vals), 4)
    out["median_final_gap_points"] = round(100 * statistics.median(j["final_gap"][name] for j in judged), 2)
    return out


def against_the_rest(judged: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """The agent and each baseline against the lowest median of the other three, per setting; then the median and
    the worst over settings. The goal's denominator is the lowest of three noisy medians, so a method that is
    merely as good as the others lands above 1 against it: this row set is what a ratio is read against."""
    names = (AGENT, *BASELINES)
    out = {}
    for name in names:
        vals: dict[str, list[float]] = {m: [] for m in MEASURES}
        for j in judged:
            med = j["median"]
            rest = [o for o in names if o != name and o in med]
            if name in med and rest:
                for m in MEASURES:
                    vals[m].append(med[name][m] / min(med[o][m] for o in rest))
        if vals[MEASURES[0]]:
            out[name] = {f"{stat}_{key}_ratio": round(fn(vals[m]), 4)
                         for m, key in MEASURE_KEYS
                         for stat, fn in (("median", statistics.median), ("worst", max))}
    return out


def choice_confidence(settings: list[dict[str, Any]], optimizers: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Per optimizer: the mean P(best) its searches gave their chosen graph (`optimize/confidence.py`), and
    how often the chosen graph was truly the best of its re-checked candidates: is the figure worth reading?"""
    out = {}
    for name in optimizers:
        runs = [r for s in settings for r in s["runs"].get(name, []) if r.get("p_best") is not None]
        if runs:
            out[name] = {"searches": len(runs), "mean_p_best": round(statistics.mean(r["p_best"] for r in runs), 3),
                         "best_of_candidates": round(statistics.mean(r["best_of_candidates"] for r in runs), 3)}
    return out


def _fmt(x: float, cap: int) -> str:
    return f"{x:.0f}" if x < cap else f"{cap} (cap)"


def _setting_rows(settings: list[dict], judged: list[dict], cap: int, seeds: int) -> list[list[str]]:
    rows = []
    for s, j in zip(settings, judged):
        held = "tuned" if s["world"] in TUNED_WORLDS else "held out"
        row = [str(s["world"]), held, s["family"], f"{s['budget']:g}", str(s["graphs"]), f"{100 * s['optimum']:.1f}"]
        for m in MEASURES:
            b = j["best_baseline"][m]
            row += [f"{_fmt(j['median'][AGENT][m], cap)} ({j['misses'][AGENT][m]}/{seeds} miss)",
                    f"{b} {_fmt(j['median'][b][m], cap)} ({j['misses'][b][m]}/{seeds} miss)",
                    f"{j['ratio'][AGENT][m]:.2f}"]
        row.append(f"{100 * j['final_gap'][AGENT]:.1f}")
        rows.append(row)
    return rows


def render(settings: list[dict], judged: list[dict], cfg: dict[str, Any], optimizers: tuple[str, ...]) -> str:
    cap = cfg["max_evaluations"]
    text = table(["world", "", "family", "budget", "graphs", "optimum % (sim)", "agent first reach",
                  "best baseline first reach", "ratio", "agent reach and stay", "best baseline reach and stay",
                  "ratio", "agent final gap (points)"], _setting_rows(settings, judged, cap, cfg["seeds"]))
    rows = []
    groups = {"tuned worlds": [j for s, j in zip(settings, judged) if s["world"] in TUNED_WORLDS],
              "held-out worlds": [j for s, j in zip(settings, judged) if s["world"] not in TUNED_WORLDS],
              "all": judged}
    for group, js in groups.items():
        if not js:
            continue
        for name in optimizers:
            if name in BASELINES and name != AGENT:
                continue
            o = overall(js, name)
            misses = {m: sum(j["misses"][name][m] for j in js) for m in MEASURES}
            rows.append([group, name, o["settings"], f"{o['median_first_reach_ratio']:.2f}",
                         f"{o['worst_first_reach_ratio']:.2f}", f"{o['median_stay_ratio']:.2f}",
                         f"{o['worst_stay_ratio']:.2f}", f"{o['median_final_gap_points']:.1f}",
                         f"{misses['first']} / {misses['stay']} of {len(js) * cfg['seeds']}"])
    text += "\n\n" + table(["worlds", "method", "settings", "median first-reach ratio", "worst",
                            "median reach-and-stay ratio", "worst", "median final gap (points)",
                            "searches that never reach / never stay"], rows)
    text += (f"\n\nRatios: the method's median evaluations / the best baseline's (lowest of {', '.join(BASELINES)}), "
             f"censored at {cap} item runs; goal for {AGENT}: median <= {GOAL_MEDIAN}, worst <= {GOAL_WORST}, "
             f"median final gap <= {GOAL_GAP_POINTS} point. {cfg['seeds']} seeds per optimizer and setting; "
             f"truth over {cfg['truth_items']} items ({cfg.get('fine_truth_items') or 'no'} for graphs within "
             f"{100 * cfg.get('fine_margin', 0):g} points of the best; {cfg.get('exact_truth_items') or 'no'} "
             f"items of their own for those within {100 * cfg.get('exact_margin', 0):g} points, which set the "
             "optimum). Tuned worlds: "
             f"{TUNED_WORLDS.start}-{TUNED_WORLDS.stop - 1}; all others are held out. Results are simulated.\n")
    rest = against_the_rest(judged)
    text += ("\n\nEach method against the best of the other three (agent and baselines), all settings: a method no "
             "better than the others lands above 1 by taking the lowest of three medians, so this is the reading a "
             "ratio of 1 is measured against.\n\n" +
             table(["method", "median first-reach ratio", "worst", "median reach-and-stay ratio", "worst"],
                   [[n, f"{r['median_first_reach_ratio']:.2f}", f"{r['worst_first_reach_ratio']:.2f}",
                     f"{r['median_stay_ratio']:.2f}", f"{r['worst_stay_ratio']:.2f}"] for n, r in rest.items()]) + "\n")
    sure = choice_confidence(settings, optimizers)
    text += "\n" + table(["method", "searches", "mean P(best) given to the chosen graph",
                          "chosen graph truly the best of its candidates"],
                         [[n, c["searches"], f"{c['mean_p_best']:.2f}", f"{100 * c['best_of_candidates']:.0f}%"]
                          for n, c in sure.items()]) + "\n"
    pairs = pairing.paired_all(settings, optimizers, cap, AGENT)
    if pairs:
        text += "\nEvery method against the agent, search by search:\n\n" + pairing.render(pairs)
    return text


def run(quick: bool = False, out_dir: Path | None = None, worlds: tuple[int, ...] | None = None,
        families: tuple[str, ...] | None = None, budgets: tuple[float, ...] | None = None, seeds: int | None = None,
        jobs: int | None = None, optimizers: tuple[str, ...] | None = None, as_json: bool = False,
        bench_run: BenchRun | None = None) -> dict[str, Any]:
    bench_run = bench_run or BenchRun()
    out_dir = out_dir or RESULTS_DIR
    cfg = dict(QUICK if quick else FULL)
    scope = QUICK_SCOPE if quick else {"worlds": DEFAULT_WORLDS, "families": FAMILIES, "budgets": BUDGETS}
    worlds, families, budgets = worlds or scope["worlds"], families or scope["families"], budgets or scope["budgets"]
    require_positive("--seeds", seeds)
    require_positive("--jobs", jobs)
    default_seeds = cfg["seeds"]
    if seeds is not None:
        cfg["seeds"] = seeds
    if jobs is not None:
        cfg["jobs"] = jobs
    optimizers = optimizers or OPTIMIZERS
    if not set(BASELINES) <= set(optimizers) or AGENT not in optimizers:
        raise UsageError(f"--optimizers must include {AGENT} and the baselines {', '.join(BASELINES)}")
    work = [(w, f) for w in worlds for f in families]
    say(f"generalization: {len(work)} (world, family) jobs x {len(budgets)} budgets, {cfg['seeds']} seeds, "
        f"{cfg['jobs']} processes")
    args = [(w, f, tuple(budgets), tuple(optimizers), cfg, out_dir) for w, f in work]
    parts = in_processes(bench_run, _job, args, cfg["jobs"])
    settings = [s for part in parts for s in part]
    judged = [judge(s, cfg["max_evaluations"]) for s in settings]
    summary = overall(judged)
    held = [j for s, j in zip(settings, judged) if s["world"] not in TUNED_WORLDS]
    tuned = [j for s, j in zip(settings, judged) if s["world"] in TUNED_WORLDS]
    payload = {"config": cfg, "worlds": list(worlds), "families": list(families), "budgets": list(budgets),
               "optimizers": list(optimizers), "tuned_worlds": [TUNED_WORLDS.start, TUNED_WORLDS.stop - 1],
               "summary": summary, "held_out": overall(held), "tuned": overall(tuned),
               "ablations": {name: overall(judged, name) for name in optimizers if name in ABLATIONS},
               "against_the_rest": against_the_rest(judged),
               "choice_confidence": choice_confidence(settings, tuple(optimizers)),
               "paired_vs_agent": pairing.paired_all(settings, tuple(optimizers), cfg["max_evaluations"], AGENT),
               "settings": [{**s, "judged": j} for s, j in zip(settings, judged)], "simulated": True}
    options = f"--worlds {','.join(map(str, worlds))} --families {','.join(families)} " \
              f"--budgets {','.join(f'{b:g}' for b in budgets)} --seeds {cfg['seeds']}"
    if tuple(optimizers) != OPTIMIZERS:
        options += f" --optimizers {','.join(optimizers)}"
    commit = bench_run.provenance()["commit"]  # read at the start of the run
    line = json_line(settings, judged, worlds, commit)
    bench_run.write_result("generalization", payload, render(settings, judged, cfg, tuple(optimizers)),
                           out_dir=out_dir, quick=quick, options=options,
                           file_stem=result_stem(worlds, families, budgets, scope,
                                                 None if seeds in (None, default_seeds) else seeds, tuple(optimizers)))
    if as_json:
        print(json.dumps(line, default=_json_default))
    return payload


def json_line(settings: list[dict[str, Any]], judged: list[dict[str, Any]], worlds: tuple[int, ...],
              commit: str) -> dict[str, Any]:
    """The `--json` line: the summary over every setting, then the same figures over the held-out settings only
    (`held_out`) and the tuned ones only (`tuned`), each null when the run has none: the summary mixes the two,
    and the question the benchmark asks is about the held-out ones."""
    held = [j for s, j in zip(settings, judged) if s["world"] not in TUNED_WORLDS]
    tuned = [j for s, j in zip(settings, judged) if s["world"] in TUNED_WORLDS]
    return {**overall(judged), "simulated": True, "worlds": list(worlds), "commit": commit,
            "held_out": overall(held) if held else None, "tuned": overall(tuned) if tuned else None}


def result_stem(worlds: tuple[int, ...], families: tuple[str, ...], budgets: tuple[float, ...],
                scope: dict[str, tuple], seeds: int | None = None,
                optimizers: tuple[str, ...] | None = None) -> str | None:
    """The result files' name: None (`generalization.*`) for the default scope; else `generalization-w<worlds>`, with
    `-f<families>` when not the default's, `-b<budgets>` when not the default's (on the default worlds) or not
    the issue's 18,30 (on others), `-s<seeds>` when `seeds` is given (the caller passes None for its default) and
    `-ablations-<names>` when `optimizers` is not every one (the agent and the baselines always run, so the
    ablations named, or `none`, tell the set): `--worlds 2000-2003 --budgets 18,30` -> `generalization-w2000-2003`,
    with `--budgets 42` -> `generalization-w2000-2003-b42`, `--worlds 0,5,9` -> `generalization-w0_5_9`, `--seeds 8
    --optimizers agent-reinforce,random,reinforce,tpe` -> `...-s8-ablations-none`. Two runs that differ in any of
    these never overwrite each other's files."""
    same_worlds = tuple(worlds) == tuple(scope["worlds"])
    parts = [] if same_worlds else [f"w{numbers_label(worlds)}"]
    if tuple(families) != tuple(scope["families"]):
        parts.append("f" + "_".join(families))
    plain = tuple(scope["budgets"]) if same_worlds else ISSUE_BUDGETS
    if tuple(float(b) for b in budgets) != plain:
        parts.append(f"b{numbers_label(budgets)}")
    if seeds is not None:
        parts.append(f"s{seeds}")
    if optimizers is not None and set(optimizers) != set(OPTIMIZERS):
        kept = [name.split(":")[-1] for name in ABLATIONS if name in optimizers]
        parts.append("ablations-" + ("_".join(kept) or "none"))
    return "-".join(["generalization", *parts]) if parts else None


def _json_default(x: Any) -> Any:
    return None if isinstance(x, float) and not math.isfinite(x) else str(x)


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
