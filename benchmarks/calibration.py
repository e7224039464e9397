"""Calibration of the sim pool against the paper: single-node accuracy per model and family, random
equal-budget graphs of the published mixes on MATH (the cells the sim was fitted to), the cells it
was not fitted to (`calibration_checks`: weak ensembles on multiple choice, a mixed pair on code, a
weaker reviewer, same-model refinement, agreement vs correctness), and width/depth sweeps (insights
2 and 3).

Graphs run through `SimExecutor` (the runtime's per-node work without LangGraph, checked against
the runtime on a sample first). The random-DAG distribution is `graphgen.random_dag` (BENCHMARKS.md
writes it out); the sweeps use `graphgen.hybrid`: width = parallel chains, depth = solvers per chain
(each refines the one before), a fuser over the chain ends. Goal: every published cell within 5 points.
"""
from __future__ import annotations

import random
from statistics import mean
from pathlib import Path
from typing import Any

from benchmarks import calibration_checks as checks
from benchmarks import graphgen as gg
from benchmarks.common import RESULTS_DIR, BenchRun, say, table
from benchmarks.simexec import SimExecutor, check_against_runtime
from benchmarks.synthetic import exact_score, synthetic_items
from rolegraph.graphs.analysis import TOKEN_PROFILES, flops_units
from rolegraph.evaluate.report import NO_SIGN, pct
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.settings import Settings

TOLERANCE = 0.05
PUBLISHED_SINGLE = {  # DESIGN.md (Wang, Chen et al. 2025): LLaMA 1B / 3B / 8B / 70B
    "math": (0.31, 0.40, 0.49, 0.68), "mmlu": (0.31, 0.43, 0.64, 0.84), "code": (0.31, 0.48, 0.60, 0.68)}
PUBLISHED_MIXES = (("nine 1B nodes", gg.MODEL_1B, 9, 0.39), ("three 3B nodes", gg.MODEL_3B, 3, 0.54),
                   ("one 8B node", gg.MODEL_8B, 1, 0.49))
EDGE_P_SENSITIVITY = (0.2, 0.5)
SWEEP_MODELS = (gg.MODEL_1B, gg.MODEL_3B, gg.MODEL_8B)
FULL = {"single_items": 4000, "mix_items": 2000, "mix_graphs": 30, "sweep_items": 1000, "sensitivity_graphs": 15,
        "widths": (1, 2, 3, 4, 5, 6, 8), "depths": (1, 2, 3, 4, 5, 6, 8), "fixed_depths": (1, 2, 3),
        "fixed_widths": (1, 2, 4), "check_items": 20, "sensitivity": True,
        "checked_items": 2000, "checked_graphs": 20, "depth_items": 1500, "agreement_items": 2000}
QUICK = {"single_items": 60, "mix_items": 30, "mix_graphs": 2, "sweep_items": 30,
         "widths": (1, 2, 3), "depths": (1, 2, 3), "fixed_depths": (1, 2), "fixed_widths": (1, 2),
         "check_items": 2, "sensitivity": False, "sensitivity_graphs": 0,
         "checked_items": 30, "checked_graphs": 2, "depth_items": 30, "agreement_items": 40}
ITEM_SEED = 21


def accuracy(ex: SimExecutor, spec: GraphSpec, items: list[Item]) -> float:
    kind = items[0].family
    return sum(exact_score(ex.answer(spec, it, kind=kind), it) for it in items) / len(items)


def single_cells(ex: SimExecutor, n_items: int) -> list[dict[str, Any]]:
    rows = []
    for family, published in PUBLISHED_SINGLE.items():
        items = synthetic_items(family, n_items, seed=ITEM_SEED)
        for model, target in zip(gg.SIM_SIZES, published):
            acc = accuracy(ex, gg.chain(1, model), items)
            rows.append({"family": family, "model": model, "sim": acc, "published": target,
                         "within": abs(acc - target) <= TOLERANCE})
    return rows


def mix_cells(ex: SimExecutor, cfg: dict, edge_p: float = gg.RANDOM_EDGE_P, graphs: int | None = None) -> list[dict[str, Any]]:
    items = synthetic_items("math", cfg["mix_items"], seed=ITEM_SEED + 1)
    profile = TOKEN_PROFILES["math"]
    rows = []
    for label, model, n, target in PUBLISHED_MIXES:
        rng = random.Random(f"mix:{label}:{edge_p}")
        count = graphs or cfg["mix_graphs"]
        specs = [gg.random_dag([model] * n, rng, edge_p=edge_p) for _ in range(count if n > 1 else 1)]
        accs = [accuracy(ex, g, items) for g in specs]
        units = [flops_units(g, ex.pool, profile) for g in specs]
        rows.append({"mix": label, "model": model, "nodes": n, "edge_p": edge_p, "graphs": len(specs),
                     "sim": mean(accs), "min": min(accs), "max": max(accs), "published": target,
                     "flops_units_mean": mean(units), "within": abs(mean(accs) - target) <= TOLERANCE})
    return rows


def sweeps(ex: SimExecutor, cfg: dict) -> dict[str, Any]:
    items = synthetic_items("math", cfg["sweep_items"], seed=ITEM_SEED + 2)
    out: dict[str, Any] = {}
    for model in SWEEP_MODELS:
        width_curves = {d: [accuracy(ex, gg.hybrid(w, d, model), items) for w in cfg["widths"]]
                        for d in cfg["fixed_depths"]}
        depth_curves = {w: [accuracy(ex, gg.hybrid(w, d, model), items) for d in cfg["depths"]]
                        for w in cfg["fixed_widths"]}
        best_w = {d: cfg["widths"][max(range(len(c)), key=c.__getitem__)] for d, c in width_curves.items()}
        best_d = {w: cfg["depths"][max(range(len(c)), key=c.__getitem__)] for w, c in depth_curves.items()}
        out[model] = {"width_curves": width_curves, "depth_curves": depth_curves, "best_width": best_w,
                      "best_depth": best_d}
        say(f"calibration sweeps {model}: best width by depth {best_w}, best depth by width {best_d}")
    return out


def insights(sw: dict[str, Any], cfg: dict) -> dict[str, Any]:
    """Insight 2: the first curve of each kind has an optimum past which more nodes lower accuracy: the width
    curve peaks inside its range; the depth curve peaks before its end (a model too weak to refine its own
    answer peaks at depth 1: self-correction without feedback does not help it). Insight 3: the best depth at
    the second fixed width is below the best depth at the first, or both are at the floor, 1 (wider moves the
    best depth down), and the best width at the second fixed depth is not above the best width at the first
    (deeper moves the best width down, or it is already at its floor, 2)."""
    res = {}
    for model, s in sw.items():
        w_first = s["width_curves"][cfg["fixed_depths"][0]]
        d_first = s["depth_curves"][cfg["fixed_widths"][0]]
        bw = [s["best_width"][d] for d in cfg["fixed_depths"]]
        bd = [s["best_depth"][w] for w in cfg["fixed_widths"]]
        res[model] = {
            "interior_width_optimum": max(w_first) > max(w_first[0], w_first[-1]),
            "depth_optimum": max(d_first) > d_first[-1],
            "interior_depth_optimum": max(d_first) > max(d_first[0], d_first[-1]),
            "wider_moves_best_depth_down": bd[1] < bd[0] or bd[1] == bd[0] == min(cfg["depths"]),
            "deeper_moves_best_width_down": bw[1] < bw[0] or bw[1] == bw[0] == min(w for w in cfg["widths"] if w > 1),
            "best_width_by_depth": bw, "best_depth_by_width": bd}
    return res


def plot(sw: dict[str, Any], cfg: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(sw), figsize=(4.2 * len(sw), 7), squeeze=False)
    panels = (("width", "widths", "width_curves", "depth"), ("depth", "depths", "depth_curves", "width"))
    for col, (model, s) in enumerate(sw.items()):
        for row, (swept, xs, curves, fixed) in enumerate(panels):
            ax = axes[row][col]
            for k, curve in s[curves].items():
                ax.plot(cfg[xs], [100 * a for a in curve], marker="o", label=f"{fixed} {k}")
            ax.set_title(f"{gg.SHORT[model]}: {swept} sweep (simulated)")
            ax.set_xlabel(swept)
            ax.set_ylabel("accuracy % (MATH, sim)")
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(quick: bool = False, out_dir: Path | None = None, bench_run: BenchRun | None = None) -> dict[str, Any]:
    bench_run = bench_run or BenchRun()
    out_dir = out_dir or RESULTS_DIR
    cfg = QUICK if quick else FULL
    ex = SimExecutor(Settings(home=bench_run.scratch_home(), cache=False))
    checked = check_against_runtime(ex, [gg.random_dag([gg.MODEL_1B] * 5, random.Random(0)), gg.hybrid(2, 2, gg.MODEL_3B)],
                                    synthetic_items("math", cfg["check_items"], seed=99), kind="math")
    say(f"calibration: SimExecutor equals the runtime on {checked} runs")
    singles = single_cells(ex, cfg["single_items"])
    mixes = mix_cells(ex, cfg)
    sensitivity = [r for p in EDGE_P_SENSITIVITY for r in mix_cells(ex, cfg, p, cfg["sensitivity_graphs"])
                   if r["nodes"] > 1] if cfg["sensitivity"] else []
    checked_rows = checks.check_cells(ex, cfg["checked_items"], cfg["checked_graphs"], cfg["depth_items"])
    agree = checks.agreement(ex, cfg["agreement_items"])
    tensions = checks.tension_cells(ex, cfg["agreement_items"])
    say("calibration: checked cells " + ", ".join(f"{r['cell']} {pct(r['sim'], NO_SIGN)}" for r in checked_rows))
    sw = sweeps(ex, cfg)
    ins = insights(sw, cfg)
    stem = "calibration-quick" if quick else "calibration"
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_path = out_dir / f"{stem}.png"
    plot(sw, cfg, plot_path)
    cells = [(f"{r['family']} {gg.SHORT[r['model']]}", r["sim"], r["published"], r["within"]) for r in singles]
    cells += [(f"math {r['mix']}", r["sim"], r["published"], r["within"]) for r in mixes]
    text = "## Fitted cells: published figures the sim's constants were fitted to (simulated vs paper)\n\n" + table(
        ["cell", "sim %", "published %", "diff", f"within {100 * TOLERANCE:.0f}"],
        [[c, pct(s, NO_SIGN), pct(p, NO_SIGN), f"{100 * (s - p):+.1f}", "yes" if ok else "NO"] for c, s, p, ok in cells])
    text += "\n\n## Checked cells: not fitted, checked against a reference (simulated)\n\n" + table(
        ["cell", "sim %", "reference %", "diff", "band (points)", "within", "source"],
        [[r["cell"], pct(r["sim"], NO_SIGN), pct(r["reference"], NO_SIGN), f"{100 * (r['sim'] - r['reference']):+.1f}",
          f"{100 * r['band'][0]:+.0f} to {100 * r['band'][1]:+.0f}", "yes" if r["within"] else "NO", r["source"]]
         for r in checked_rows])
    text += "\n\nSources: " + "; ".join(f"**{k}**: {v}" for k, v in checks.SOURCES.items() if k != "agreement") + "."
    chains = [r for r in checked_rows if "curve" in r]
    text += "\n\nSame-model chains (depth -> accuracy %): " + "; ".join(
        f"{r['cell'].split(' chain')[0]}: " + ", ".join(f"{d} {pct(a, NO_SIGN)}" for d, a in r["curve"].items()) for r in chains)
    text += ("\n\n## Known tensions: checked, outside their reference, kept for a fitted cell "
             "(simulated; not in the goal)\n\n") + table(
        ["cell", "sim %", "reference %", "diff", "band (points)", "within", "any sample right %", "source"],
        [[r["cell"], pct(r["sim"], NO_SIGN), pct(r["reference"], NO_SIGN), f"{100 * (r['sim'] - r['reference']):+.1f}",
          f"{100 * r['band'][0]:+.0f} to {100 * r['band'][1]:+.0f}", "yes" if r["within"] else "NO",
          pct(r["any_right"], NO_SIGN), r["source"]] for r in tensions])
    text += (f"\n\nSource: **fuse**: {checks.SOURCES['fuse']}. The sim's fuser picks out a right sample far more "
             "often than a vote does, because the paper's fitted cell of three 3B nodes (54% against one 8B's 49%) "
             "needs such a reader; the two published results pull apart here, and the sim follows the paper. Where "
             "it matters: a router stage that stops before the fuser gives this gain up (BENCHMARKS.md, GSM8K check).")
    shares = sorted({k for a in agree.values() for k in a["by_share"]})
    text += f"\n\n## Agreement vs correctness: {checks.VOTERS} solvers at temperature {checks.VOTE_TEMPERATURE} on MATH " \
            "(simulated; checked, not fitted)\n\n" + table(
        ["model", "one sample right %"] + [f"majority {k}/{checks.VOTERS}: items %, right %" for k in shares]
        + ["rises with share"],
        [[m, pct(a["single"], NO_SIGN)] + [f"{pct(a['by_share'][k]['items'], NO_SIGN)}, {pct(a['by_share'][k]['majority_right'], NO_SIGN)}"
                                     if k in a["by_share"] else "-" for k in shares] + ["yes" if a["within"] else "NO"]
         for m, a in agree.items()])
    text += f"\n\nSource: {checks.SOURCES['agreement']}."
    text += "\n\n## Random equal-budget graphs on MATH (simulated)\n\n" + table(
        ["mix", "edge p", "graphs", "mean %", "min-max %", "mean FLOPs units", "published %"],
        [[r["mix"], r["edge_p"], r["graphs"], pct(r["sim"], NO_SIGN), f"{pct(r['min'], NO_SIGN)}-{pct(r['max'], NO_SIGN)}",
          f"{r['flops_units_mean']:.1f}", pct(r["published"], NO_SIGN)] for r in mixes + sensitivity])
    text += "\n\n## Width and depth sweeps on MATH (simulated)\n\n"
    for model, s in sw.items():
        text += table([f"{gg.SHORT[model]} width ->"] + [str(w) for w in cfg["widths"]],
                      [[f"depth {d}"] + [pct(a, NO_SIGN) for a in c] for d, c in s["width_curves"].items()]) + "\n\n"
        text += table([f"{gg.SHORT[model]} depth ->"] + [str(d) for d in cfg["depths"]],
                      [[f"width {w}"] + [pct(a, NO_SIGN) for a in c] for w, c in s["depth_curves"].items()]) + "\n\n"
        text += (f"best width by depth {s['best_width']}; best depth by width {s['best_depth']}; "
                 f"insight checks: {', '.join(f'{k} {v}' for k, v in ins[model].items() if isinstance(v, bool))}\n\n")
    text += f"Plot: `{plot_path.name}`.\n"
    payload = {"simulated": True, "tolerance": TOLERANCE, "config": cfg, "single": singles, "mixes": mixes,
               "mix_sensitivity": sensitivity, "sweeps": sw, "insights": ins, "plot": plot_path.name,
               "runtime_check_runs": checked, "checked": checked_rows, "agreement": agree, "tensions": tensions,
               "fitted_within": all(ok for *_, ok in cells),
               "checked_within": all(r["within"] for r in checked_rows) and all(a["within"] for a in agree.values()),
               "meets_goal": all(ok for *_, ok in cells) and all(r["within"] for r in checked_rows)}
    bench_run.write_result("calibration", payload, text, out_dir=out_dir, quick=quick)
    return payload
