"""How varied the simulator's worlds are: `python -m benchmarks worlds [--quick]`.

A search method is judged on worlds it was not tuned on (rolegraph/sim/world.py), which is only a
test if the worlds differ where it matters. Two measures:

1. Single models (exact, from each world's drawn accuracies; worlds 1-50): the spread of each model's
   accuracy per family, and how often a smaller model beats a larger one on a family.
2. Optima (simulated): the search-efficiency space (up to 5 solver/fuser workers into one output node,
   the four sim sizes, no worker-to-worker edges) at budgets 18, 30 and 42 FLOPs units, per family;
   every graph scored on the same items in world 0 and in worlds 1-20. Per (world, family, budget):
   whether the optimum is another graph than world 0's, and the *regret* of keeping world 0's optimum
   (the world's optimum minus that graph's accuracy there). With few items per graph near-ties swap
   by chance, so the regret (how much world 0's answer costs) is the measure to read.
"""
from __future__ import annotations

from pathlib import Path
from statistics import mean, median
from typing import Any

from benchmarks import graphgen as gg
from benchmarks.common import RESULTS_DIR, BenchRun, say, table
from benchmarks.searchbench import ROLES
from benchmarks.simexec import SimExecutor
from benchmarks.synthetic import exact_score, synthetic_items
from benchmarks.truth import shape_key
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.baselines.exhaustive import enumerate_graphs
from rolegraph.optimize.space import SearchSpace
from rolegraph.settings import Settings
from rolegraph.sim import calibration as cal
from rolegraph.sim.world import GENERATOR

FAMILIES = ("math", "mmlu", "code")
SINGLE_WORLDS = range(1, 51)
REGRET_POINTS = 0.02  # a regret above this is more than near-tie noise at these item counts
FULL = {"worlds": tuple(range(1, 21)), "budgets": (18.0, 30.0, 42.0), "items": 200, "max_nodes": 6,
        "families": FAMILIES}
QUICK = {"worlds": (1,), "budgets": (18.0,), "items": 8, "max_nodes": 3, "families": ("math",)}
ITEM_SEED = 61


def single_model_variety() -> dict[str, Any]:
    """Per family, over worlds 1-50: each size's accuracy range, and the share of (world, family) pairs in
    which some smaller model beats a larger one (world 0: never)."""
    out: dict[str, Any] = {}
    inversions = total = 0
    for family in FAMILIES + ("qa",):
        accs = {m: [] for m in gg.SIM_SIZES}
        fam_inv = 0
        for w in SINGLE_WORLDS:
            pool = ModelPool.builtin(world=w)
            row = [cal.single_accuracy(pool.get(m), family) for m in gg.SIM_SIZES]
            for m, a in zip(gg.SIM_SIZES, row):
                accs[m].append(a)
            inv = any(row[i] > row[j] for i in range(len(row)) for j in range(i + 1, len(row)))
            fam_inv += inv
        inversions += fam_inv
        total += len(SINGLE_WORLDS)
        base = ModelPool.builtin()
        out[family] = {
            "world0": {gg.SHORT[m]: cal.single_accuracy(base.get(m), family) for m in gg.SIM_SIZES},
            "range": {gg.SHORT[m]: [min(v), median(v), max(v)] for m, v in accs.items()},
            "smaller_beats_larger_share": fam_inv / len(SINGLE_WORLDS),
        }
    out["smaller_beats_larger_share"] = inversions / total
    return out


def _space(pool: ModelPool, budget: float, max_nodes: int, family: str) -> SearchSpace:
    return SearchSpace(pool=pool, models=gg.SIM_SIZES, roles=ROLES, max_nodes=max_nodes, budget=budget,
                       worker_edges=False, family=family)


def optimum_variety(cfg: dict, bench_run: BenchRun) -> dict[str, Any]:
    home = bench_run.scratch_home()
    rows = []
    for family in cfg["families"]:
        base_pool = ModelPool.builtin()
        top = _space(base_pool, max(cfg["budgets"]), cfg["max_nodes"], family)
        graphs = [spec for _, spec in enumerate_graphs(top)]
        cost = {shape_key(g): top.cost(g) for g in graphs}
        items = synthetic_items(family, cfg["items"], seed=ITEM_SEED)
        land: dict[int, dict[str, float]] = {}
        for w in (0, *cfg["worlds"]):
            ex = SimExecutor(Settings(home=home, cache=False), world=w)
            land[w] = {shape_key(g): mean(exact_score(ex.answer(g, it, kind=family), it) for it in items)
                       for g in graphs}
            say(f"worlds: {family} world {w}: {len(graphs)} graphs scored")
        for budget in cfg["budgets"]:
            keys = [k for k in cost if cost[k] <= budget * (1 + 1e-9)]
            best0 = max(keys, key=land[0].__getitem__)
            for w in cfg["worlds"]:
                best = max(keys, key=land[w].__getitem__)
                rows.append({"family": family, "budget": budget, "world": w, "graphs": len(keys),
                             "differs": best != best0, "regret": land[w][best] - land[w][best0],
                             "optimum": land[w][best], "world0_optimum_here": land[w][best0]})
    return {"rows": rows}


def run(quick: bool = False, out_dir: Path | None = None, bench_run: BenchRun | None = None) -> dict[str, Any]:
    bench_run = bench_run or BenchRun()
    out_dir = out_dir or RESULTS_DIR
    cfg = QUICK if quick else FULL
    singles = single_model_variety()
    opt = optimum_variety(cfg, bench_run)
    rows = opt["rows"]
    text = f"## Single models over worlds 1-50 (generator {GENERATOR}; exact, from the drawn accuracies)\n\n"
    text += table(["family", "1B min / median / max %", "3B", "8B", "70B", "world 0 (1B/3B/8B/70B)",
                   "a smaller model beats a larger one"],
                  [[f] + [" / ".join(f"{100 * x:.0f}" for x in s["range"][gg.SHORT[m]]) for m in gg.SIM_SIZES]
                   + [" / ".join(f"{100 * s['world0'][gg.SHORT[m]]:.0f}" for m in gg.SIM_SIZES),
                      f"{100 * s['smaller_beats_larger_share']:.0f}% of worlds"]
                   for f, s in singles.items() if isinstance(s, dict)])
    text += f"\n\nOver all families: {100 * singles['smaller_beats_larger_share']:.0f}% of (world, family) pairs.\n\n"
    text += (f"## Optima (simulated): worlds {cfg['worlds'][0]}-{cfg['worlds'][-1]} against world 0, "
             f"{cfg['items']} items per graph\n\n")
    summary = []
    for family in cfg["families"]:
        for budget in cfg["budgets"]:
            sel = [r for r in rows if r["family"] == family and r["budget"] == budget]
            summary.append([family, f"{budget:g}", sel[0]["graphs"], f"{100 * mean(r['differs'] for r in sel):.0f}%",
                            f"{100 * mean(r['regret'] > REGRET_POINTS for r in sel):.0f}%",
                            f"{100 * median(r['regret'] for r in sel):.1f}", f"{100 * max(r['regret'] for r in sel):.1f}"])
    text += table(["family", "budget", "graphs", "optimum differs from world 0's",
                   f"world 0's optimum loses > {100 * REGRET_POINTS:.0f} points", "median regret (points)",
                   "max regret (points)"], summary)
    differs = mean(r["differs"] for r in rows)
    costly = mean(r["regret"] > REGRET_POINTS for r in rows)
    text += (f"\n\nAll settings: the optimum differs from world 0's in {100 * differs:.0f}%, and world 0's optimum "
             f"loses more than {100 * REGRET_POINTS:.0f} points in {100 * costly:.0f}%.\n")
    payload = {"generator": GENERATOR, "config": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
               "single_models": singles, "optima": rows, "optimum_differs_share": differs,
               "regret_over_threshold_share": costly, "simulated": True}
    bench_run.write_result("worlds", payload, text, out_dir=out_dir, quick=quick)
    return payload
