"""Render a run directory from its store: best_graph.yaml, trace.json, report.md and three PNGs.

Everything is re-derived from `run.sqlite`, so `rolegraph report RUN_DIR` reproduces the files of
a finished run, and renders what there is (best so far, no test score yet) for an unfinished one.
"""

from __future__ import annotations

import json
from pathlib import Path

from rolegraph.graphs.io import dumps_yaml
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.loop import FinalChoice
from rolegraph.optimize.pareto import ParetoPoint, front, points
from rolegraph.optimize.rundir import RunStore, write_atomic
from rolegraph.optimize.trace import PRIOR_ITEMS, SELECTION_Z, EvalRecord, FeedbackRecord, IterationRecord, ranked

PNG_DPI = 110
SIM_NOTE = "Results are **simulated** (sim pool): they show the search working, not claims about real models."
TOP_FEEDBACK_LINES = 3


def _fmt_ci(ci) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def load_run(run_dir: str | Path) -> dict:
    """Everything a report needs, from the store (raises SearchError if it is not a run)."""
    store = RunStore.open(run_dir)
    try:
        point = store.checkpoint()
        config = store.config()
        records = [EvalRecord.model_validate(r) for r in store.records()]
        feedback = [FeedbackRecord.model_validate(f) for f in store.feedback()]
        graphs = store.graphs()
    finally:
        store.close()
    iteration, phase, state = point if point is not None else (0, "new", {"iterations": [], "final": None})
    return {
        "run_dir": Path(run_dir),
        "config": config,
        "iteration": iteration,
        "phase": phase,
        "state": state,
        "records": records,
        "feedback": feedback,
        "graphs": graphs,
        "iterations": [IterationRecord.model_validate(r) for r in state.get("iterations", [])],
        "final": FinalChoice.model_validate(state["final"]) if state.get("final") else None,
    }


def chosen_graph(run: dict) -> GraphSpec | None:
    from rolegraph.optimize.objectives import Objective

    final: FinalChoice | None = run["final"]
    if final is not None:
        return GraphSpec.model_validate(run["graphs"][final.chosen_hash])
    objective = Objective.model_validate(run["config"]["space"]["objective"])
    order = ranked(run["records"], objective)
    return GraphSpec.model_validate(run["graphs"][order[0][0]]) if order else None


def render(run_dir: str | Path) -> Path:
    """(Re)write every file of the run directory; returns the report path."""
    run = load_run(run_dir)
    out = Path(run_dir)
    best = chosen_graph(run)
    if best is not None:
        best = best.model_copy(update={"name": "best", "description": _describe_best(run)})
        write_atomic(out / "best_graph.yaml", dumps_yaml(best))
        _graph_png(best, out / "graph.png")
    trace = {
        "task": run["config"]["task"],
        "optimizer": run["config"]["optimizer"]["name"],
        "simulated": any(r.simulated for r in run["records"]),
        "phase": run["phase"],
        "evaluations": [r.model_dump() for r in run["records"]],
        "iterations": [r.model_dump() for r in run["iterations"]],
        "feedback": [f.model_dump() for f in run["feedback"]],
        "final": run["final"].model_dump() if run["final"] else None,
    }
    write_atomic(out / "trace.json", json.dumps(trace, indent=1))
    pts = points(run["records"])
    _curve_png(run, out / "curve.png")
    _pareto_png(pts, front(pts), out / "pareto.png")
    write_atomic(out / "report.md", report_markdown(run, best, front(pts)))
    return out / "report.md"


def _describe_best(run: dict) -> str:
    cfg = run["config"]
    final = run["final"]
    score = (
        f"; test accuracy {final.test.accuracy:.3f} {_fmt_ci(final.test.ci95)} on {final.test.n} items" if final else ""
    )
    sim = " (simulated)" if any(r.simulated for r in run["records"]) else ""
    return f"best graph of the {cfg['optimizer']['name']} search on {cfg['task']}{score}{sim}"


def report_markdown(run: dict, best: GraphSpec | None, pareto: list[ParetoPoint]) -> str:
    from rolegraph.graphs.render import to_text_table
    from rolegraph.optimize.objectives import Objective

    cfg = run["config"]
    sc = cfg["search"]
    records: list[EvalRecord] = run["records"]
    simulated = any(r.simulated for r in records)
    spent = sum(r.n for r in records if r.phase in ("pilot", "search", "validation"))
    lines = [f"# Search report: {cfg['task']} / {cfg['optimizer']['name']}", ""]
    if simulated:
        lines += [SIM_NOTE, ""]
    agent = cfg["optimizer"].get("agent")
    if agent:
        note = (
            " (offline and deterministic: credit assignment from the evaluations; the default with the sim pool)"
            if agent == "statistical"
            else ""
        )
        lines += [f"Feedback agent: **{agent}**{note}.", ""]
    sp = cfg["space"]
    usable = [m for m in sp["models"] if m not in sp.get("excluded", [])]
    left_out = f" (left out, too big alone for the budget: {', '.join(sp['excluded'])})" if sp.get("excluded") else ""
    lines += [
        "## Setup",
        "",
        f"- space: models {', '.join(usable)}{left_out}; roles {', '.join(sp['roles'])}; up to "
        f"{sp['max_nodes']} nodes; budget {sp['budget']} ({sp['budget_kind']}); objective "
        f"{Objective.model_validate(sp['objective']).describe()}",
        f"- iterations {sc['iterations']}, samples per iteration {sc['samples']}, batch {sc['batch']} items, "
        f"seed {sc['seed']}, evaluation budget {sc['max_evaluations'] or 'none'}",
        f"- status: {run['phase']} after iteration {run['iteration']}; evaluations spent: {spent} item-level "
        "graph runs (pilot, search and the final validation re-check)",
        "",
    ]
    final: FinalChoice | None = run["final"]
    if best is not None:
        lines += ["## Chosen graph", "", "```", to_text_table(best).rstrip(), "```", ""]
    if final is not None:
        t = final.test
        lines += [
            f"Test accuracy **{t.accuracy:.3f}** (95% Wilson interval {_fmt_ci(t.ci95)}, {t.n} test items), "
            f"mean latency {t.latency_s:.2f} s, ${t.dollars:.5f} per item, {t.flops_units:.2f} FLOPs units"
            f"{' (simulated)' if t.simulated else ''}.",
            "",
        ]
        if final.singles:
            lines += [
                "## Against single models (test items)",
                "",
                "| graph | accuracy | 95% CI | latency s | $ per item | FLOPs units |",
                "|---|---|---|---|---|---|",
                f"| chosen graph | {t.accuracy:.3f} | {_fmt_ci(t.ci95)} | {t.latency_s:.2f} | {t.dollars:.5f} | "
                f"{t.flops_units:.2f} |",
            ]
            for s in sorted(final.singles, key=lambda s: -s.objective):
                lines.append(
                    f"| single {s.label} | {s.accuracy:.3f} | {_fmt_ci(s.ci95)} | {s.latency_s:.2f} | "
                    f"{s.dollars:.5f} | {s.flops_units:.2f} |"
                )
            lines.append("")
        lines += [
            "## Final check of the top candidates (validation items)",
            "",
            "Candidates are the best graphs by training objective (scores adjusted for batch difficulty, "
            f"shrunk toward the search's mean by {PRIOR_ITEMS:g} pseudo-items, minus {SELECTION_Z:g} standard "
            "error); validation slices go, a round at a time, to the leader and its strongest rival until one is "
            "clearly ahead; the choice pools training and validation items the same way. Isomorphic copies of a "
            "graph (the same graph in other slots) count as one graph.",
            "",
            "| graph | training objective (adjusted, shrunk, pessimistic) | training items "
            "| validation objective "
            "| validation items | pooled objective |",
            "|---|---|---|---|---|---|",
        ]
        for c in final.candidates:
            mark = " (chosen)" if c["hash"] == final.chosen_hash else ""
            val = "-" if c["validation_objective"] is None else f"{c['validation_objective']:.3f}"
            comb = c.get("combined_objective")
            lines.append(
                f"| {c['hash'][:10]}{mark} | {c['train_objective']:.3f} | {c['train_items']} | {val} | "
                f"{c.get('validation_items', '-')} | {'-' if comb is None else f'{comb:.3f}'} |"
            )
        lines.append("")
    lines += [
        "## Search curve",
        "",
        "![best-so-far objective](curve.png)",
        "",
        "| iteration | evaluations | best-so-far objective (pooled) | best of this batch |",
        "|---|---|---|---|",
    ]
    for it in run["iterations"]:
        best_obj = "-" if it.best_objective is None else f"{it.best_objective:.3f}"
        batch = "-" if it.batch_best is None else f"{it.batch_best:.3f}"
        lines.append(f"| {it.iteration} | {it.evaluations} | {best_obj} | {batch} |")
    lines += [
        "",
        "## Pareto front (accuracy, latency, dollars; pooled training items)",
        "",
        "![pareto](pareto.png)",
        "",
        "| graph | accuracy | latency s | $ per item | items |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {p.graph_hash[:10]} | {p.accuracy:.3f} | {p.latency_s:.2f} | {p.dollars:.5f} | {p.n} |" for p in pareto
    ]
    if run["feedback"]:
        lines += ["", "## Feedback (textual gradients)", ""]
        for f in run["feedback"]:
            lines.append(f"- **iteration {f.iteration}** ({f.agent}): {f.summary}")
            lines += [f"  - helped: {h}" for h in f.helped[:TOP_FEEDBACK_LINES]]
            lines += [f"  - hurt: {h}" for h in f.hurt[:TOP_FEEDBACK_LINES]]
            if f.fallback:
                lines.append(f"  - note: {f.fallback}")
    pg = run["state"].get("optimizer", {}).get("pg")
    if pg is not None:
        lines += ["", "## Final probabilities", "", "```", _pg_table(cfg, pg), "```"]
    lines += [
        "",
        "Graph: ![graph](graph.png) — run it with `rolegraph run best_graph.yaml --task ...` or "
        "`rolegraph eval best_graph.yaml --task ...`.",
        "",
    ]
    return "\n".join(lines)


def _pg_table(cfg: dict, pg: dict) -> str:
    from rolegraph.models.pool import ModelPool
    from rolegraph.optimize.probabilistic import ProbabilisticGraph
    from rolegraph.optimize.space import SearchSpace

    try:
        space = SearchSpace.from_dict(cfg["space"], ModelPool.load(cfg.get("pool")))
        return ProbabilisticGraph.from_dict(space, pg).table(top_edges=12)
    except Exception as exc:  # noqa: BLE001 - a report should render even if the pool file moved
        return f"(probabilities not shown: {exc})"


def _figure(width: float = 6.0, height: float = 4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> None:
    import io

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, dpi=PNG_DPI, format="png")
    write_atomic(path, buf.getvalue())


def _curve_png(run: dict, path: Path) -> None:
    fig = _figure()
    ax = fig.add_subplot()
    its = [it for it in run["iterations"] if it.best_objective is not None]
    charged = [r for r in run["records"] if r.phase in ("pilot", "search")]
    running, xs, ys = None, [], []
    for r in charged:
        running = r.objective if running is None else max(running, r.objective)
        xs.append(r.evaluations)
        ys.append(running)
    if xs:
        ax.step(xs, ys, where="post", color="#bbbbbb", label="max batch objective (optimistic)")
    if its:
        ax.step(
            [it.evaluations for it in its],
            [it.best_objective for it in its],
            where="post",
            color="#1f77b4",
            linewidth=2,
            label="best so far (pooled estimate)",
        )
    final: FinalChoice | None = run["final"]
    if final is not None:
        ax.axhline(final.test.objective, color="#2ca02c", linestyle="--", label="chosen graph, test")
    ax.set_xlabel("evaluations (item-level graph runs)")
    ax.set_ylabel("objective")
    ax.set_title(f"{run['config']['optimizer']['name']} on {run['config']['task']}")
    if xs or its:
        ax.legend(loc="lower right", fontsize=8)
    _save(fig, path)


def _pareto_png(pts: list[ParetoPoint], pareto: list[ParetoPoint], path: Path) -> None:
    fig = _figure()
    ax = fig.add_subplot()
    if pts:
        sc = ax.scatter(
            [p.latency_s for p in pts],
            [p.accuracy for p in pts],
            c=[p.dollars for p in pts],
            cmap="viridis",
            s=18,
            alpha=0.7,
        )
        fig.colorbar(sc, ax=ax, label="$ per item")
        ax.scatter(
            [p.latency_s for p in pareto],
            [p.accuracy for p in pareto],
            facecolors="none",
            edgecolors="#d62728",
            s=70,
            linewidths=1.5,
            label="Pareto front",
        )
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("mean latency per item (s)")
    ax.set_ylabel("accuracy (training items)")
    ax.set_title("graphs evaluated")
    _save(fig, path)


def _graph_png(spec: GraphSpec, path: Path) -> None:
    import os
    import tempfile

    from rolegraph.graphs.render import render_png

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".graph.", suffix=".png")
    os.close(fd)
    try:
        render_png(spec, tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
