"""Per-query compute: routers fitted over a search's front, against the best fixed graph, on held-out items.

For each setting (a sim world x a task family: math, mmlu, code on synthetic items) an Agent-REINFORCE
search at a 42-unit FLOPs budget runs to its end, which scores its chosen graph, the sub-votes inside it,
its front and the single models on shared fit items and on test items (optimize/paired.py). Routers are
fitted on the fit items only (optimize/route_fit.py), at the default target (the best graph's fit
accuracy less 1 point) and at mean-FLOPs targets of 0.4, 0.6, 0.8 and 1.0 times the best graph's, and
reported on the test items with the paired bootstrap interval of (router - best graph).

Goal (issue 15), judged on two routers named in advance per setting, so the test items choose nothing: the
router fitted at 0.6x the best graph's FLOPs matches its accuracy (the paired 95% interval of the
difference reaches 0) at <= 0.6x its mean test FLOPs, or the router fitted at 1.0x beats it by >= 3 points
at no more FLOPs; in at least two thirds of the settings. A strict reading is reported beside it
(`MATCH_MAX_LOSS`). World 0 is where the rules and defaults were
developed (tuned); the other worlds are held out.

Also: coalescing a width-5 same-model fan-out through serve-sim on loopback (prompt tokens counted from the
request bodies the server received; goal <= 0.3x, answers identical), and, in the full run, the relation
between agreement and correctness on the real local model (llama.cpp's server, SmolLM2-135M; `routing_real`:
a three-way tie has no majority answer).
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from benchmarks.common import RESULTS_DIR, BenchRun, UsageError, numbers_label, say, table
from benchmarks.options import nonnegative_int, parse_worlds
from benchmarks.routing_real import real_local
from benchmarks.routing_real import render as render_real
from benchmarks.synthetic import SyntheticTask
from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import SearchError
from rolegraph.evaluate.report import NO_SIGN, pct
from rolegraph.graphs.builder import Graph
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.api import make_optimizer, optimize_async
from rolegraph.optimize.context import SearchConfig
from rolegraph.optimize.route_fit import fit_route, load_outcomes
from rolegraph.optimize.space import SearchSpace
from rolegraph.settings import Settings

FAMILIES = ("math", "mmlu", "code")
TUNED_WORLDS = (0,)
SIM_MODELS = ("sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b", "sim/llama-3.1-70b")
ROLES = ("solver", "verifier", "fuser")
FLOPS_TARGETS = (0.4, 0.6, 0.8, 1.0)
GOAL_FLOPS_RATIO, GOAL_GAIN, GOAL_SHARE, GOAL_PROMPT_RATIO = 0.6, 0.03, 2 / 3, 0.3
JUDGED_MATCH, JUDGED_GAIN = 0.6, 1.0  # the targets whose routers the goal judges
FULL = {"worlds": (0, 1, 2), "families": FAMILIES, "task_items": 2400, "iterations": 8, "samples": 4, "batch": 16,
        "validation_items": 48, "test_items": 300, "route_items": 300, "budget": 42.0, "max_nodes": 6,
        "coalesce_items": 40, "real_items": 60}
QUICK = {"worlds": (0,), "families": ("math",), "task_items": 240, "iterations": 1, "samples": 2, "batch": 4,
         "validation_items": 4, "test_items": 30, "route_items": 30, "budget": 42.0, "max_nodes": 4,
         "coalesce_items": 3, "real_items": 0}
MATCH_MAX_LOSS = 0.02
"""The strict reading (reported beside the issue's): a match is also at most 2 points lower (a paired interval
reaching 0 is wide on a few hundred items; 2 points is the issue's own bar for its GSM8K check), and a gain
counts only when the router is a cascade (a router fitted at 1.0x may be a single front graph that happens to
beat the search's choice: a better pick, not per-query compute)."""
EPS = 1e-9


def search(world: int, family: str, cfg: dict, home: Path, run_dir: Path) -> None:
    pool = ModelPool.builtin(world=world)
    task = SyntheticTask(family, n=cfg["task_items"], seed=0)
    space = SearchSpace(pool=pool, models=SIM_MODELS, roles=ROLES, max_nodes=cfg["max_nodes"], budget=cfg["budget"],
                        family=family)
    config = SearchConfig(iterations=cfg["iterations"], samples=cfg["samples"], batch=cfg["batch"],
                          validation_items=cfg["validation_items"], test_items=cfg["test_items"],
                          route_items=cfg["route_items"], seed=world)

    async def main() -> None:
        hub = ModelHub(pool, Settings(home=home))
        try:
            await optimize_async(task, space, make_optimizer("agent-reinforce", hub=hub), hub=hub, config=config,
                                 out=run_dir, task_args={"name": task.name})
        finally:
            await hub.aclose()

    asyncio.run(main())


def _row(label: str, p: Any, kind: str, fit: Any = None) -> dict:
    row = {"label": label, "kind": kind, "accuracy": p.accuracy, "flops_units": p.flops_units, "dollars": p.dollars,
           "n": p.n, "shares": p.shares}
    if fit is not None:
        row |= {"stages": fit.stages, "rules": fit.rules, "diff": fit.vs_best["diff"], "ci95": fit.vs_best["ci95"],
                "flops_ratio": fit.flops_ratio, "fit_accuracy": fit.fit.accuracy, "fit_flops": fit.fit.flops_units}
    return row


def setting(world: int, family: str, cfg: dict, home: Path, runs: Path) -> dict:
    run_dir = runs / f"w{world}-{family}"
    say(f"routing: world {world}, {family}: search and paired outcomes")
    search(world, family, cfg, home, run_dir)
    outcomes = load_outcomes(run_dir)
    default = fit_route(run_dir, outcomes=outcomes)
    best_fit_flops = default.best_fit.flops_units
    routers, unfitted = {"default": default}, {}
    for t in FLOPS_TARGETS:
        try:
            routers[f"{t:g}x"] = fit_route(run_dir, target_flops=t * best_fit_flops, outcomes=outcomes)
        except SearchError as exc:  # a target no cascade fits: in the result and its table, not fatal; a bug raises
            unfitted[f"{t:g}x"] = str(exc)
            say(f"  target {t:g}x: {exc}")
    rows = [_row(c.name, c.test, c.source) for c in default.candidates]
    rows += [_row(f"router {k}", r.test, "router", r) for k, r in routers.items()]
    best = default.best_test
    match = routers.get(f"{JUDGED_MATCH:g}x")
    gain = routers.get(f"{JUDGED_GAIN:g}x")
    cheap = bool(match and match.test.flops_units <= GOAL_FLOPS_RATIO * best.flops_units + EPS)
    meets_match = cheap and match.vs_best["ci95"][1] >= 0  # the issue's criterion: the paired interval reaches 0
    strict_match = meets_match and match.vs_best["diff"] >= -MATCH_MAX_LOSS
    meets_gain = bool(gain and gain.test.flops_units <= best.flops_units + EPS and gain.vs_best["diff"] >= GOAL_GAIN)
    gain_is_cascade = bool(gain and len(gain.stages) > 1)
    signal = [{"graph": c.name, "agree": c.agree_accuracy, "disagree": c.disagree_accuracy,
               "agree_share": c.agree_share} for c in default.candidates if c.agree_accuracy is not None]
    return {"world": world, "family": family, "held_out": world not in TUNED_WORLDS,
            "best": {"name": default.best_name, **best.model_dump()}, "rows": rows, "signal": signal,
            "meets_match": meets_match, "meets_match_strict": strict_match, "meets_gain": meets_gain,
            "gain_is_cascade": gain_is_cascade, "meets_goal": meets_match or meets_gain,
            "meets_goal_strict": strict_match or (meets_gain and gain_is_cascade),
            "unfitted_targets": unfitted, "note": (match or default).note}


class BodyCounter:
    """ASGI middleware keeping the body of every chat request the server receives."""

    def __init__(self, app: Any):
        self.app, self.bodies = app, []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].endswith("/chat/completions"):
            return await self.app(scope, receive, send)
        chunks: list[bytes] = []

        async def recv():
            msg = await receive()
            if msg["type"] == "http.request":
                chunks.append(msg.get("body", b""))
                if not msg.get("more_body"):
                    self.bodies.append(b"".join(chunks))
            return msg

        return await self.app(scope, recv, send)


def prompt_tokens(body: bytes) -> tuple[int, bool]:
    """(prompt tokens at 4 characters a token, whether the request is a solver's) of one request body."""
    data = json.loads(body)
    chars = sum(len(str(m.get("content") or "")) for m in data["messages"])
    solver = str(data["messages"][0].get("content", "")).startswith("Role: solver")
    return chars // 4, solver


def coalescing(cfg: dict, home: Path) -> dict:
    """A vote of five identical solvers (and a fuser) through serve-sim, coalesced and not, cache off."""
    from rolegraph.graphs.runtime import CompiledGraph
    from rolegraph.sim.server import ServerThread, create_app

    counter = BodyCounter(create_app(ModelPool.builtin(), Settings(home=home / "server")))
    task = SyntheticTask("math", n=cfg["coalesce_items"], seed=5)
    with ServerThread(counter) as server:
        http = ModelSpec(id="http/llama-3.2-3b", backend="openai", base_url=server.base_url, model="sim/llama-3.2-3b",
                         answer_key=True, params_b=3.21, layers=28, hidden=3072, price_in=0.06, price_out=0.06)
        pool = ModelPool([*ModelPool.builtin(), http])
        g = Graph("vote5-same")
        for i in range(5):
            g = g.node(f"s{i}", "solver", http.id)
        g = g.node("f", "fuser", http.id)
        for i in range(5):
            g = g.edge(f"s{i}", "f")
        spec = g.build()
        runs: dict[bool, Any] = {}
        for on in (True, False):
            start = len(counter.bodies)

            async def main(on=on):
                hub = ModelHub(pool, Settings(home=home / f"client-{on}", cache=False, coalesce=on))
                try:
                    graph = CompiledGraph(spec, hub)
                    return [await graph.run(it) for it in task.all_items()]
                finally:
                    await hub.aclose()

            results = asyncio.run(main())
            counted = [prompt_tokens(b) for b in counter.bodies[start:]]
            runs[on] = {"results": results, "requests": len(counted),
                        "solver_tokens": sum(t for t, s in counted if s), "all_tokens": sum(t for t, _ in counted),
                        "solver_requests": sum(1 for _, s in counted if s),
                        "billed_prompt": sum(n.tokens_in for r in results for n in r.nodes if n.role == "solver")}
    same = all([(n.id, n.answer, n.output) for n in a.nodes] == [(n.id, n.answer, n.output) for n in b.nodes]
               for a, b in zip(runs[True]["results"], runs[False]["results"]))
    ratio = runs[True]["solver_tokens"] / runs[False]["solver_tokens"]
    return {"items": cfg["coalesce_items"], "fanout_prompt_ratio": ratio,
            "graph_prompt_ratio": runs[True]["all_tokens"] / runs[False]["all_tokens"],
            "billed_prompt_ratio": runs[True]["billed_prompt"] / runs[False]["billed_prompt"],
            "requests": {"coalesced": runs[True]["requests"], "separate": runs[False]["requests"]},
            "solver_requests": {"coalesced": runs[True]["solver_requests"], "separate": runs[False]["solver_requests"]},
            "identical_answers": same, "meets_goal": ratio <= GOAL_PROMPT_RATIO and same}


def plot(settings: list[dict], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    worlds = sorted({s["world"] for s in settings})
    families = [f for f in FAMILIES if any(s["family"] == f for s in settings)]
    fig = Figure(figsize=(4.2 * len(families), 3.4 * len(worlds)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(worlds), len(families), squeeze=False)
    for s in settings:
        ax = axes[worlds.index(s["world"])][families.index(s["family"])]
        graphs = [r for r in s["rows"] if r["kind"] != "router"]
        routers = [r for r in s["rows"] if r["kind"] == "router"]
        ax.scatter([r["flops_units"] for r in graphs], [r["accuracy"] for r in graphs], c="#1976d2", s=18,
                   label="front graphs")
        ax.scatter([s["best"]["flops_units"]], [s["best"]["accuracy"]], marker="s", c="#f57c00", s=40,
                   label="best graph")
        ax.scatter([r["flops_units"] for r in routers], [r["accuracy"] for r in routers], marker="*", c="#c62828",
                   s=70, label="routers")
        for r in routers:
            ax.annotate(r["label"].replace("router ", ""), (r["flops_units"], r["accuracy"]), fontsize=6)
        held = "held out" if s["held_out"] else "tuned"
        ax.set_title(f"world {s['world']} ({held}), {s['family']}", fontsize=9)
        ax.set_xlabel("mean FLOPs units per item", fontsize=8)
        ax.set_ylabel("test accuracy (simulated)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def options(
    worlds: Annotated[Any, typer.Option(parser=parse_worlds, metavar="WORLDS", help=(
        "Sim worlds, e.g. 0-4 or 0,3 (default 0,1,2; world 0 is the tuned one)."))] = None,
    real_items: Annotated[int | None, typer.Option(parser=nonnegative_int, metavar="N", help=(
        "Questions for the real local model (default 60; 0 skips it)."))] = None,
) -> dict[str, Any]:
    """The command line's own options (`python -m benchmarks routing --help`), as `run`'s keywords."""
    return locals()


def _summary(settings: list[dict]) -> str:
    """One row per setting: the best graph, the routers the goal judges, and whether a plurality stage was used."""
    rows = []
    for s in settings:
        r = {x["label"]: x for x in s["rows"] if x["kind"] == "router"}
        cells = [f"{s['world']} ({'held out' if s['held_out'] else 'tuned'})", s["family"],
                 f"{pct(s['best']['accuracy'], NO_SIGN)} @ {s['best']['flops_units']:.1f}"]
        for key in ("router default", f"router {JUDGED_MATCH:g}x"):
            x = r.get(key)
            plurality = bool(x and x["stages"] and x["stages"][0].endswith("-plurality"))
            cells.append("-" if x is None else f"{100 * x['diff']:+.1f} [{100 * x['ci95'][0]:+.1f}, "
                         f"{100 * x['ci95'][1]:+.1f}] @ {x['flops_ratio']:.2f}x" + (" P" if plurality else ""))
        cells.append("yes" if s["meets_goal"] else "no")
        rows.append(cells)
    return table(["world", "family", "best: test acc % @ FLOPs", "default router: vs best, points @ FLOPs ratio",
                  f"{JUDGED_MATCH:g}x router: vs best @ FLOPs ratio", "goal"], rows) + \
        "\n\nP: the router starts with a plurality stage (a vote's solvers answer without its output when they agree)."


def result_stem(default: dict[str, Any], worlds: tuple[int, ...] | None, real_items: int | None) -> str | None:
    """The result files' name: None (`routing.*`) when the worlds and real items are the mode's `default`, else
    `routing[-w<worlds>][-r<real items>]` (`--worlds 0,1,2,3,4` -> `routing-w0-4`), so a run on other settings
    never overwrites the default's files."""
    parts = [] if not worlds or tuple(worlds) == default["worlds"] else [f"w{numbers_label(worlds)}"]
    if real_items is not None and real_items != default["real_items"]:
        parts.append(f"r{real_items}")
    return "-".join(["routing", *parts]) if parts else None


def run(quick: bool = False, out_dir: Path | None = None, worlds: tuple[int, ...] | None = None,
        real_items: int | None = None, bench_run: BenchRun | None = None) -> dict[str, Any]:
    bench_run = bench_run or BenchRun()
    cfg = dict(QUICK if quick else FULL)
    if worlds:
        cfg["worlds"] = tuple(worlds)
    if real_items is not None:
        if real_items < 0:
            raise UsageError(f"--real-items must be at least 0, got {real_items}")
        cfg["real_items"] = real_items
    out_dir = out_dir or RESULTS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    home = bench_run.scratch_home()
    settings = [setting(w, f, cfg, home, home / "runs") for w in cfg["worlds"] for f in cfg["families"]]
    say("routing: coalescing on loopback")
    coal = coalescing(cfg, home)
    real = real_local(cfg, home)  # says its heading as it starts, or that it did not run
    file_stem = result_stem(QUICK if quick else FULL, worlds, real_items)
    plot_path = out_dir / f"{file_stem or 'routing'}{'-quick' if quick else ''}.png"
    plot(settings, plot_path)
    met = sum(s["meets_goal"] for s in settings)
    strict = sum(s["meets_goal_strict"] for s in settings)
    held = [s for s in settings if s["held_out"]]
    text = f"Goal: in >= {GOAL_SHARE:.0%} of settings a router matches the best graph (paired 95% CI reaches 0) " \
           f"at <= {GOAL_FLOPS_RATIO}x its FLOPs (router fitted at {JUDGED_MATCH}x) or beats it by >= " \
           f"{100 * GOAL_GAIN:.0f} points at equal FLOPs (router fitted at {JUDGED_GAIN}x). Met in {met} of " \
           f"{len(settings)} settings ({sum(s['meets_goal'] for s in held)} of {len(held)} held-out); strict reading " \
           f"(a match at most {100 * MATCH_MAX_LOSS:.0f} points lower, a gain only by a cascade): {strict} of " \
           f"{len(settings)}. Simulated (sim pool), like every section below but the last, which is " \
           + ("a real model" if "skipped" not in real else "the real-model section, not run") + ".\n\n" \
           + _summary(settings) + "\n\n"
    for s in settings:
        held_text = "held out" if s["held_out"] else "tuned on"
        text += f"## World {s['world']} ({held_text}), {s['family']}: best graph {s['best']['name']} (simulated)\n\n"
        text += table(["graph / router", "kind", "test acc %", "mean FLOPs", "$ / item", "stage shares",
                       "vs best (paired 95% CI)"],
                      [[r["label"], r["kind"], pct(r["accuracy"], NO_SIGN), f"{r['flops_units']:.1f}",
                        f"{r['dollars']:.6f}",
                        " / ".join(f"{100 * x:.0f}%" for x in r["shares"]),
                        f"{100 * r['diff']:+.1f} [{100 * r['ci95'][0]:+.1f}, {100 * r['ci95'][1]:+.1f}]"
                        if "diff" in r else ""] for r in s["rows"]])
        text += "\n\nAgreement signal on fit items (accuracy when all answering nodes agree / otherwise, share " \
                "agreeing): " + "; ".join(f"{g['graph']}: {pct(g['agree'], NO_SIGN)} / {pct(g['disagree'], NO_SIGN)}, "
                                          f"{pct(g['agree_share'], NO_SIGN)}" for g in s["signal"])
        text += f"\n\nGoal: match {s['meets_match']} (strict {s['meets_match_strict']}), gain {s['meets_gain']} " \
                f"(by a cascade: {s['gain_is_cascade']}). {s['note']}" + "".join(
                    f" No router at {k}: {why}." for k, why in s["unfitted_targets"].items()) + "\n\n"
    text += "## Coalesced sampling (serve-sim on loopback, width-5 same-model fan-out; simulated)\n\n" + table(
        ["items", "fan-out prompt tokens, coalesced / separate", "whole graph", "billed prompt", "requests",
         "identical answers"],
        [[coal["items"], f"{coal['fanout_prompt_ratio']:.3f}", f"{coal['graph_prompt_ratio']:.3f}",
          f"{coal['billed_prompt_ratio']:.3f}", f"{coal['requests']['coalesced']} vs {coal['requests']['separate']}",
          coal["identical_answers"]]])
    text += "\n\n" + render_real(real)
    text += f"\n\nPlot: `{plot_path.name}`.\n"
    payload = {"config": cfg, "settings": settings, "coalescing": coal, "real_local": {**real, "simulated": False},
               "plot": plot_path.name, "simulated": True,
               "settings_meeting_goal": met, "settings_meeting_goal_strict": strict,
               "meets_goal": met >= GOAL_SHARE * len(settings) and coal["meets_goal"]}
    options = " ".join(([f"--worlds {','.join(map(str, cfg['worlds']))}"] if worlds else [])
                       + ([f"--real-items {real_items}"] if real_items is not None else []))
    bench_run.write_result("routing", payload, text, out_dir=out_dir, quick=quick, options=options, file_stem=file_stem)
    return payload
