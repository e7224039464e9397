"""How far the generalization benchmark's "reach and stay" can go: a well-informed searcher as a reference.

`generalization` counts, per search, the item runs until the graph it would choose is within 98% of the
optimum and stays there. On the sim's landscapes the best graphs are often a point or two apart while a
graph's accuracy over 500 items has a standard error near 2 points, so how soon any search can *stay* is
bounded by statistics, not by its cleverness. This benchmark measures that bound with a searcher no real
search can be: the **oracle** knows the K truly best graphs of a setting from the start (the truth table's
top K), spends m item runs on each on the same fresh items (paired), and keeps the one with the best raw
accuracy. Its reach and stay is K x m item runs when that pick is within 98% of the optimum, and never
otherwise (it stops evaluating).

It is a reference, not a strict bound: it knows the candidates (no search does) but splits its items evenly
(racing could spend them better), and it is judged against the same truth table as the searches (1,000
items, 4,000 for graphs near the best; the table's own noise is shown beside it: each top graph's accuracy
on the oracle's fresh items).

Per setting: the chance the pick is within 98% at each m; the oracle's expected median reach and stay over
`seeds` searches at its best m (the median of `generalization`'s seeds: a search that never stays counts as
the evaluation cap); and, read from a `generalization` result on the same settings (`--baselines-from`), that
median over the best baseline's. `python -m benchmarks oracle_floor [--worlds A-B] [--families ...]
[--budgets 18,30] [--top K] [--items N] [--baselines-from FILE]`; other worlds than the default write
`oracle_floor-w<worlds>.*` (2000-2003 -> `w2000-2003`, 0,5,9 -> `w0_5_9`). A `--baselines-from` file that does
not exist is a usage error; without one, `generalization.json` beside the results is read when it exists and
covers the settings (the output says which file, or that none was).
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

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
from benchmarks.generalization import FAMILIES, FULL, QUICK, TUNED_WORLDS, world_pool
from benchmarks.options import bad_value, csv_list, parse_worlds, positive_int
from benchmarks.searchbench import TARGET_SHARE, Bench, shape_key
from benchmarks.synthetic import exact_score, synthetic_items

DEFAULT_WORLDS = (700, 701, 702, 703)
"""The worlds of the generalization headline (run H), so the oracle sits beside those searches."""
BUDGETS = (18.0, 30.0)
TOP_K = 3
ITEMS = 12000
SPLITS = (100, 250, 500, 1000)
"""Item runs per candidate the oracle may spend (K x m must fit the evaluation cap)."""
ORACLE_SEED = 4242
"""Seed of the oracle's fresh items (the truth table's are 1001, the search tasks' 7)."""
QUICK_CFG = {"items": 240, "splits": (20, 40), "top": 2, "worlds": (0,), "families": ("math",), "budgets": (18.0,)}


def existing_file(text: str) -> Path:
    """An option's parser: a file that exists (a wrong path is a one-line usage error, never a silent `compared: 0`)."""
    path = Path(text)
    if not path.is_file():
        raise bad_value(f"no such file: {text}")
    return path


def options(
    worlds: Annotated[Any, typer.Option(parser=parse_worlds, metavar="WORLDS",
                                        help="Default 700-703 (run H's held-out worlds).")] = None,
    families: Annotated[Any, typer.Option(parser=csv_list(str, FAMILIES), metavar="LIST",
                                          help="Default math,mmlu,code.")] = None,
    budgets: Annotated[Any, typer.Option(parser=csv_list(float), metavar="LIST",
                                         help="FLOPs units, default 18,30.")] = None,
    top: Annotated[int | None, typer.Option(parser=positive_int, metavar="K",
                                            help=f"Candidates the oracle knows (default {TOP_K}).")] = None,
    items: Annotated[int | None, typer.Option(parser=positive_int, metavar="N",
                                              help=f"Fresh items per setting (default {ITEMS}).")] = None,
    baselines_from: Annotated[Path | None, typer.Option(parser=existing_file, metavar="FILE", help=(
        "A generalization result JSON on the same settings (default: benchmarks/results/generalization.json when "
        "it covers them)."))] = None,
) -> dict[str, Any]:
    """The command line's own options (`python -m benchmarks oracle_floor --help`), as `run`'s keywords."""
    return locals()


def expected_median_stay(p: float, cost: float, cap: float, seeds: int) -> float:
    """Expected median over `seeds` searches that each stay at `cost` with chance `p`, else count as `cap`."""
    total = 0.0
    for s in range(seeds + 1):
        chance = math.comb(seeds, s) * p**s * (1 - p) ** (seeds - s)
        values = sorted([cost] * s + [cap] * (seeds - s))
        total += chance * statistics.median(values)
    return total


def _job(bench_run: BenchRun, world: int, family: str, budgets: tuple[float, ...], cfg: dict[str, Any],
         out_dir: Path) -> list[dict]:
    bench = Bench(world_pool(world), bench_run.scratch_home(), out_dir, world=world)
    items = synthetic_items(family, cfg["items"], seed=ORACLE_SEED)  # type: ignore[arg-type]
    rows = []
    try:
        for budget in budgets:
            setting = bench.setting(family, budget, cfg["truth"], check=False)
            target = TARGET_SHARE * setting.optimum
            top = sorted(setting.graphs, key=lambda g: -setting.accuracies[shape_key(g)])[: cfg["top"]]
            good = np.array([setting.accuracies[shape_key(g)] >= target - 1e-12 for g in top])
            scores = np.array([[exact_score(bench.executor.answer(g, it, kind=family, seed=0), it) for it in items]
                               for g in top], dtype=float)
            chance = {}
            for m in cfg["splits"]:
                blocks = [scores[:, j * m:(j + 1) * m].mean(axis=1) for j in range(cfg["items"] // m)]
                chance[m] = float(np.mean([good[int(np.argmax(b))] for b in blocks]))
            setting.save()
            rows.append({"world": world, "family": family, "budget": budget, "target": target,
                         "truth": [setting.accuracies[shape_key(g)] for g in top],
                         "fresh": scores.mean(axis=1).tolist(), "within_target": int(good.sum()),
                         "within_target_all": sum(a >= target - 1e-12 for a in setting.accuracies.values()),
                         "chance": chance})
            say(f"oracle: world {world} {family} budget {budget:g}: " +
                ", ".join(f"m={m} {100 * c:.0f}%" for m, c in chance.items()))
    finally:
        bench.close()
    return rows


def _baselines(path: Path | None, out_dir: Path) -> tuple[Path | None, dict[tuple[int, str, float], dict[str, Any]]]:
    """The file read and (world, family, budget) -> its judged medians: `path` (which must exist), else
    `generalization.json` in `out_dir` when there is one, else (None, {})."""
    if path is not None and not Path(path).is_file():
        raise UsageError(f"--baselines-from: no such file: {path}")
    path = Path(path) if path is not None else out_dir / "generalization.json"
    if not path.is_file():
        return None, {}
    data = json.loads(path.read_text())
    return path, _judged(data)


def _judged(data: dict[str, Any]) -> dict[tuple[int, str, float], dict[str, Any]]:
    return {(s["world"], s["family"], float(s["budget"])): {**s["judged"], "seeds": data["config"]["seeds"],
                                                              "cap": data["config"]["max_evaluations"]}
            for s in data.get("settings", [])}


def judge(row: dict[str, Any], base: dict[str, Any] | None, top: int, cap: float, seeds: int) -> dict[str, Any]:
    """The oracle's expected median stay at its best split, and its ratio to the best baseline's median."""
    medians = {m: expected_median_stay(c, top * m, cap, seeds) for m, c in row["chance"].items() if top * m <= cap}
    best_m = min(medians, key=medians.__getitem__)
    out = {"best_split": best_m, "oracle_median_stay": medians[best_m]}
    if base is not None:
        b = base["best_baseline"]["stay"]
        out |= {"baseline": b, "baseline_median_stay": base["median"][b]["stay"],
                "agent_median_stay": base["median"].get("agent-reinforce", {}).get("stay"),
                "oracle_ratio": medians[best_m] / base["median"][b]["stay"],
                "agent_ratio": base["ratio"].get("agent-reinforce", {}).get("stay")}
    return out


def render(rows: list[dict], judged: list[dict], cfg: dict[str, Any]) -> str:
    splits = cfg["splits"]
    lines = []
    for r, j in zip(rows, judged):
        held = "tuned" if r["world"] in TUNED_WORLDS else "held out"
        top = " / ".join(f"{100 * t:.1f} ({100 * f:.1f})" for t, f in zip(r["truth"], r["fresh"]))
        line = [r["world"], held, r["family"], f"{r['budget']:g}", f"{100 * r['target']:.1f}", top,
                f"{r['within_target']} of {len(r['truth'])} ({r['within_target_all']} in all)"]
        line += [f"{100 * r['chance'][m]:.0f}%" for m in splits]
        line += [f"{j['oracle_median_stay']:.0f} (m={j['best_split']})"]
        if "baseline" in j:
            line += [f"{j['baseline']} {j['baseline_median_stay']:.0f}", f"{j['oracle_ratio']:.2f}",
                     f"{j['agent_ratio']:.2f}" if j["agent_ratio"] is not None else "-"]
        else:
            line += ["-", "-", "-"]
        lines.append(line)
    headers = ["world", "", "family", "budget", "98% target", f"top {cfg['top']}: truth (fresh items) %",
               "top graphs within target"] + [f"pick within target, m={m}" for m in splits]
    headers += ["oracle median stay", "best baseline median stay", "oracle / baseline", "agent / baseline"]
    text = table(headers, lines)
    ratios = [j["oracle_ratio"] for j in judged if "oracle_ratio" in j]
    if ratios:
        text += (f"\n\nOracle / best baseline on reach and stay: median {statistics.median(ratios):.2f}, best "
                 f"{min(ratios):.2f}, worst {max(ratios):.2f} over {len(ratios)} settings (the goal asks the agent "
                 f"for a median <= 0.5).")
    text += (f"\n\nThe oracle knows the top {cfg['top']} graphs of the truth table and spends m item runs on each, "
             f"paired, on {cfg['items']} fresh items (seed {ORACLE_SEED}) cut into blocks of m; the chance is the "
             f"share of blocks whose best raw accuracy is a graph within 98% of the optimum. Its median stay is the "
             f"expected median over {cfg['seeds']} searches (never = the cap, {cfg['cap']} item runs) at its best "
             f"m. Results are simulated.\n")
    return text


def run(quick: bool = False, out_dir: Path | None = None, worlds: tuple[int, ...] | None = None,
        families: tuple[str, ...] | None = None, budgets: tuple[float, ...] | None = None, top: int | None = None,
        items: int | None = None, baselines_from: Path | None = None,
        bench_run: BenchRun | None = None) -> dict[str, Any]:
    bench_run = bench_run or BenchRun()
    out_dir = out_dir or RESULTS_DIR
    require_positive("--top", top)
    require_positive("--items", items)
    if baselines_from is not None and not Path(baselines_from).is_file():
        raise UsageError(f"--baselines-from: no such file: {baselines_from}")
    base_cfg = QUICK_CFG if quick else {"items": ITEMS, "splits": SPLITS, "top": TOP_K, "worlds": DEFAULT_WORLDS,
                                        "families": FAMILIES, "budgets": BUDGETS}
    truth = dict(QUICK if quick else FULL)
    cfg = {"items": base_cfg["items"] if items is None else items, "splits": base_cfg["splits"],
           "top": base_cfg["top"] if top is None else top,
           "truth": truth, "seeds": truth["seeds"], "cap": truth["max_evaluations"], "jobs": truth["jobs"]}
    worlds, families = worlds or base_cfg["worlds"], families or base_cfg["families"]
    budgets = budgets or base_cfg["budgets"]
    work = [(w, f, tuple(budgets), cfg, out_dir) for w in worlds for f in families]
    parts = in_processes(bench_run, _job, work, cfg["jobs"])
    rows = [r for part in parts for r in part]
    # a quick run's settings are the quick scope's: it reads a baselines file only when one is named
    source, baselines = _baselines(baselines_from, out_dir) if baselines_from is not None or not quick else (None, {})
    judged = []
    for r in rows:
        base = baselines.get((r["world"], r["family"], r["budget"]))
        seeds, cap = (base["seeds"], base["cap"]) if base else (cfg["seeds"], cfg["cap"])
        judged.append(judge(r, base, cfg["top"], cap, seeds))
    ratios = [j["oracle_ratio"] for j in judged if "oracle_ratio" in j]
    summary = {"settings": len(rows), "compared": len(ratios), "baselines_from": str(source) if source else None,
               "median_oracle_stay_ratio": statistics.median(ratios) if ratios else None,
               "settings_oracle_ratio_at_most_half": sum(x <= 0.5 for x in ratios)}
    payload = {"config": {k: v for k, v in cfg.items() if k != "truth"}, "worlds": list(worlds),
               "families": list(families), "budgets": list(budgets), "summary": summary,
               "settings": [{**r, "judged": j} for r, j in zip(rows, judged)], "simulated": True}
    options = (f"--worlds {','.join(map(str, worlds))} --families {','.join(families)} "
               f"--budgets {','.join(f'{b:g}' for b in budgets)} --top {cfg['top']} --items {cfg['items']}")
    if baselines_from is not None:
        options += f" --baselines-from {baselines_from}"
    stem = None if tuple(worlds) == tuple(base_cfg["worlds"]) else f"oracle_floor-w{numbers_label(worlds)}"
    text = render(rows, judged, cfg) + _baselines_note(source, len(ratios), len(rows), quick)
    say(_baselines_note(source, len(ratios), len(rows), quick).strip())
    bench_run.write_result("oracle_floor", payload, text, out_dir=out_dir, quick=quick, options=options, file_stem=stem)
    return payload


def _baselines_note(source: Path | None, compared: int, settings: int, quick: bool) -> str:
    """Which baselines file was read and how many settings it covered (never silent about a file it left)."""
    if source is None:
        why = "a quick run reads one only when --baselines-from names it" if quick else "no --baselines-from, " \
              "and no generalization.json beside the results"
        return f"\nBaselines: none read ({why}); no oracle / baseline ratio.\n"
    return f"\nBaselines: `{source}`, covering {compared} of these {settings} settings.\n"
