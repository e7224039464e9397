"""`report.md` and the run directory's pictures, re-derived from the run's store.

Everything is re-derived from `run.sqlite`, so `rolegraph report RUN_DIR` reproduces the files of
a finished run, and renders what there is (best so far, no test score yet) for an unfinished one.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from rolegraph.agents.roles_file import register_defs
from rolegraph.evaluate.report import timed_out_note
from rolegraph.evaluate.stats import wilson_interval
from rolegraph.fileio import write_atomic
from rolegraph.graphs.analysis import flops_phrase, flops_text
from rolegraph.graphs.render import to_text_table
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool
from rolegraph.models.provenance import PARTLY, REAL, SIMULATED, label_suffix
from rolegraph.money import money
from rolegraph.optimize.agent_usage import STATISTICAL_DESCRIPTION, agent_usage
from rolegraph.optimize.artifacts import write_artifacts
from rolegraph.optimize.checkpoint import paid_before, timed_out_before
from rolegraph.optimize.final import FinalChoice
from rolegraph.optimize.objectives import Objective
from rolegraph.optimize.pareto import ParetoPoint, front, points
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.run_reader import fmt_ci, load_run, reproduce_options
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.stages import Stage, StageOutput, describe_stages
from rolegraph.optimize.trace import PRIOR_ITEMS, SELECTION_Z, EvalRecord, run_simulation
from rolegraph.reports.plots import curve_png, graph_png, pareto_png, simulation_label
from rolegraph.reports.router import ROUTER_TITLE, router_note
from rolegraph.reports.selection import (
    CANDIDATE_HEADERS,
    candidate_rows,
    confidence_text,
    selection_row,
    selection_text,
)
from rolegraph.reports.wording import (
    best_graph_name,
    budget_text,
    capitalised,
    feedback_label,
    no_feedback_text,
    own_pilot,
    restart_text,
    writes_feedback,
)

SIM_NOTE = "Results are **simulated** (sim pool): they show the search working, not claims about real models."
PARTLY_NOTE = (
    "Results are **partly simulated**: some answers came from sim models or serve-sim twins, so they are "
    "not claims about the real models either."
)
TOP_FEEDBACK_LINES = 3
TOP_EDGES = 12
"""Edges shown under the final probabilities (most likely first); the line says when there are more."""
CURVE_NOTE = (
    "The best-so-far objective is re-estimated at each iteration from every training item scored so far (pooled, "
    "adjusted for batch difficulty), so it can go down when more items of the leader are scored; it is not a "
    "running maximum (curve.png's grey line, the best single batch, is)."
)


def render(run_dir: str | Path) -> Path:
    """(Re)write every file of the run directory; returns the report path."""
    run = load_run(run_dir) | cap_stop_facts(run_dir)
    out = Path(run_dir)
    best = write_artifacts(out, run)
    if best is not None:
        graph_png(best, out / "graph.png", label=simulation_label(run))
    pts = points(run["records"])
    curve_png(run, out / "curve.png")
    pareto_png(pts, front(pts), out / "pareto.png", label=simulation_label(run))
    write_atomic(out / "report.md", report_markdown(run, best, front(pts)))
    return out / "report.md"


def cap_stop_facts(run_dir: str | Path) -> dict:
    """What `load_run` does not read: whether the dollar cap stopped the run (`RunStore.cap_stop`), the dollars
    paid and the requests abandoned at a timeout (attempts, worst-case dollars), each over all sessions. A report of
    a capped run must say so, and resume it with a higher cap: without one it stops again at once.
    Public: the HTML page renders from `load_run` alone and must give the same figures as report.md."""
    store = RunStore.open(run_dir)
    try:
        return {"cap_stop": store.cap_stop(), "paid_usd": paid_before(store), "timed_out": timed_out_before(store)}
    finally:
        store.close()


def _status(run: dict) -> str:
    """The report's status: a dollar cap's stop (from `cap_stop_facts`; absent in a run dict from `load_run` alone) with
    what was paid and how to go on, else how far the search got (or that it has no checkpoint to resume)."""
    if not run.get("cap_stop"):
        return restart_text(run) or f"{run['phase']} after iteration {run['iteration']}"
    cap = run["config"]["search"].get("max_dollars")
    command = f"`{resume_hint(run)}`"
    return (
        (f"{run['phase']} after iteration {run['iteration']}" if run["checkpointed"] else "no checkpoint yet")
        + f", stopped by its dollar cap ({f'--max-dollars {money(cap)}; ' if cap is not None else ''}"
        + f"{money(run.get('paid_usd') or 0.0)} paid on calls so far): "
        + (f"{command} continues it" if run["checkpointed"] else f"{command} starts it again from the beginning")
    )


def dollars_text(run: dict) -> str | None:
    """The Setup's dollar figures with their setting: the dollar cap (`--max-dollars`, as the session that last set
    it left it: a resume's cap replaces the stored one, earlier ones are not kept) and what was paid over all
    sessions (the store's `paid_usd`). Why: a report gave the cap and the dollars only when the cap stopped the run,
    so a capped run resumed to its end read as if it had neither. A run whose calls all went to sim models made no
    real call, and says so beside its sim-priced figure. None when there is nothing to say (no cap, and a run dict
    from `load_run` alone, which has no paid figure)."""
    cap = run["config"]["search"].get("max_dollars")
    paid = run.get("paid_usd")
    parts = []
    if cap is not None:
        parts.append(f"dollar cap --max-dollars {money(cap)} (as last set: a resume's cap replaces the earlier one)")
    if paid is not None:
        simulation = run_simulation(run)  # of the evaluations; the stored label counts the feedback agent's model too
        stored = (run["config"].get("provenance") or {}).get("simulation", SIMULATED)
        if simulation == SIMULATED and stored != SIMULATED:
            simulation = PARTLY  # a sim-pool search whose LLM feedback agent called a real endpoint
        if simulation == SIMULATED:
            parts.append(f"no real calls (sim models only): {money(paid)} at the sim pool's prices over all sessions")
        else:
            some = " (some at the sim pool's prices)" if simulation == PARTLY else ""
            parts.append(f"{money(paid)} paid on calls over all sessions{some}")
    return "dollars: " + "; ".join(parts) if parts else None


def timed_out_text(run: dict) -> str | None:
    """The Setup's line for requests the run's sessions abandoned at their `timeout_s` (`cap_stop_facts`), in the
    words `eval` and `run` use under their tables (`timed_out_note`): the endpoint may bill them, yet neither the
    dollars paid nor any reply holds them, so a report naming the dollars and not them read as the whole bill.
    None when there were none (or for a run dict from `load_run` alone, which does not read them)."""
    attempts, dollars = run.get("timed_out") or (0, 0.0)
    note = timed_out_note(attempts, dollars)
    return f"over all sessions, {note}" if note else None


def resume_hint(run: dict) -> str:
    """`rolegraph optimize --resume RUN`, with `--max-dollars HIGHER` after a dollar cap's stop (see `_status`)."""
    more = " --max-dollars HIGHER" if run.get("cap_stop") else ""
    return f"rolegraph optimize --resume {shlex.quote(str(run['run_dir']))}{more}"


def report_markdown(run: dict, best: GraphSpec | None, pareto: list[ParetoPoint]) -> str:

    cfg = run["config"]
    sc = cfg["search"]
    records: list[EvalRecord] = run["records"]
    simulation = run_simulation(run)
    spent = sum(r.n for r in records if r.phase in ("pilot", "search", "validation"))
    lines = [f"# Search report: {cfg['task']} / {cfg['optimizer']['name']}", ""]
    if simulation == SIMULATED:
        lines += [SIM_NOTE + f" Simulator world {cfg.get('world', 0)}.", ""]
    elif simulation == PARTLY:
        lines += [PARTLY_NOTE + f" Simulator world {cfg.get('world', 0)}.", ""]
    usage = agent_usage(cfg["optimizer"].get("agent"), run["feedback"])
    if usage is not None:
        lines += [f"Feedback agent: **{usage.headline()}**.", ""]
        if usage.warning():
            lines += [f"> **{usage.warning()}**", ""]
        if not usage.is_llm:
            lines += [STATISTICAL_DESCRIPTION, ""]
    sp = cfg["space"]
    usable = [m for m in sp["models"] if m not in sp.get("excluded", []) + sp.get("window_excluded", [])]
    left_out = f" (left out, too big alone for the budget: {', '.join(sp['excluded'])})" if sp.get("excluded") else ""
    if sp.get("window_excluded"):
        left_out += f" (left out, one node exceeds its context window: {', '.join(sp['window_excluded'])})"
    lines += [
        "## Setup",
        "",
        f"- space: models {', '.join(usable)}{left_out}; roles {', '.join(sp['roles'])}; up to "
        f"{sp['max_nodes']} nodes; budget {budget_text(sp)}; objective "
        f"{Objective.model_validate(sp['objective']).describe()}",
        *_space_notes(cfg, records),
        f"- iterations {sc['iterations']}, samples per iteration {sc['samples']}, batch {sc['batch']} items, "
        f"seed {sc['seed']}, evaluation budget {sc['max_evaluations'] or 'none'}",
        *([f"- {dollars}"] if (dollars := dollars_text(run)) else []),
        *([f"- {abandoned}"] if (abandoned := timed_out_text(run)) else []),
        f"- status: {_status(run)}; evaluations spent: {spent} item-level graph runs ({_spent_on(records)})",
        "",
    ]
    final: FinalChoice | None = run["final"]
    if best is not None:
        lines += [f"## {capitalised(best_graph_name(run))}", "", "```"]
        lines += [to_text_table(best).rstrip(), "```", ""]
    if final is not None:
        t = final.test
        lines += [
            f"Test accuracy **{t.accuracy:.3f}** (95% Wilson interval {fmt_ci(t.ci95)}, {t.n} held-out test items: "
            f"they played no part in the choice, so this is the unbiased estimate), "
            f"mean latency {t.latency_s:.2f} s, {money(t.dollars)} per item, {flops_phrase(t.flops_units)}"
            f"{label_suffix(t.simulation or (SIMULATED if t.simulated else REAL))}.",
            "",
        ]
        if final.cap_miss:
            lines += [f"> **{final.cap_miss}**", ""]
        row = selection_row(final)
        text = selection_text(row, prefix="Selection figures of the chosen graph: ") if row is not None else ""
        if text:
            lines += [text + ".", ""]
        sure = (
            confidence_text(row, prefix="How sure the choice is: ", candidates=final.candidates)
            if row is not None
            else ""
        )
        if sure:
            lines += [sure + ".", ""]

        if final.singles:
            lines += [
                "## Against single models (test items)",
                "",
                "| graph | accuracy | 95% CI | latency s | $ per item | FLOPs units |",
                "|---|---|---|---|---|---|",
                f"| chosen graph | {t.accuracy:.3f} | {fmt_ci(t.ci95)} | {t.latency_s:.2f} | {money(t.dollars, '')} | "
                f"{flops_text(t.flops_units)} |",
            ]
            for s in sorted(final.singles, key=lambda s: -s.objective):
                lines.append(
                    f"| single {s.label} | {s.accuracy:.3f} | {fmt_ci(s.ci95)} | {s.latency_s:.2f} | "
                    f"{money(s.dollars, '')} | {flops_text(s.flops_units)} |"
                )
            lines.append("")
        lines += [
            "## Final check of the top candidates (validation items)",
            "",
            "Candidates are the best graphs by their ranking score (training accuracy adjusted for batch "
            f"difficulty, shrunk toward the search's mean by {PRIOR_ITEMS:g} pseudo-items, minus {SELECTION_Z:g} "
            "standard errors); validation slices go, a round at a time, to the leader and its strongest rival until "
            "one is clearly ahead; the choice score pools training and validation items the same way. Isomorphic "
            "copies of a graph (the same graph in other slots) count as one graph.",
            "",
            "Raw accuracies are the scores on the items each candidate ran, with 95% Wilson intervals. They are "
            "selection figures: the chosen graph was chosen because they were high, so they are optimistic; the "
            "scores after them are for ranking, not accuracies. The test accuracy above is the estimate to trust.",
            "",
            "| " + " | ".join(CANDIDATE_HEADERS) + " |",
            "|" + "---|" * len(CANDIDATE_HEADERS),
        ]
        lines += ["| " + " | ".join(r) + " |" for r in candidate_rows(final)]
        lines.append("")
    lines += [
        "## Search curve",
        "",
        "![best-so-far objective](curve.png)",
        "",
        "| iteration | evaluations | best-so-far objective (pooled training items, batch-adjusted) "
        "| best of this batch (raw) |",
        "|---|---|---|---|",
    ]
    for it in run["iterations"]:
        best_obj = "-" if it.best_objective is None else f"{it.best_objective:.3f}"
        batch = "-" if it.batch_best is None else f"{it.batch_best:.3f}"
        lines.append(f"| {it.iteration} | {it.evaluations} | {best_obj} | {batch} |")
    if run["iterations"]:
        lines += ["", CURVE_NOTE]
    lines += [
        "",
        "## Pareto front (accuracy, latency, dollars; pooled training items)",
        "",
        "![pareto](pareto.png)",
        "",
        "The front is drawn on batch-adjusted accuracy; the raw accuracy is as scored on the graph's training "
        "items (selection figures, optimistic at the top).",
        "",
        "| graph | accuracy (raw) | 95% CI | accuracy (batch-adjusted) | latency s | $ per item | items |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {p.graph_hash[:10]} | {_raw(p.raw_accuracy)} | {_raw_ci(p.raw_accuracy, p.n)} | {p.accuracy:.3f} | "
        f"{p.latency_s:.2f} | {money(p.dollars, '')} | {p.n} |"
        for p in pareto
    ]
    missing = no_feedback_text(run)
    if missing is not None and writes_feedback(run):
        lines += ["", "## Feedback (textual gradients)", "", missing]
    if run["feedback"]:
        lines += ["", "## Feedback (textual gradients)", ""]
        for f in run["feedback"]:
            lines.append(f"- **{feedback_label(f.iteration, records, f.agent)}** ({f.agent}): {f.summary}")
            lines += [f"  - helped: {h}" for h in f.helped[:TOP_FEEDBACK_LINES]]
            lines += [f"  - hurt: {h}" for h in f.hurt[:TOP_FEEDBACK_LINES]]
            if f.fallback:
                lines.append(f"  - note: {f.fallback}")
    pg = run["state"].get("optimizer", {}).get("pg")
    if pg is not None:
        lines += ["", "## Final probabilities", "", "```", _pg_table(cfg, pg), "```"]
    router = router_note(run["run_dir"])
    if router is not None:
        lines += ["", f"## {ROUTER_TITLE}", "", router.text(f"rolegraph run router.yaml {reproduce_options(run)}")]
    lines += ["", _graph_line(run, best), ""]
    return "\n".join(lines)


def _graph_line(run: dict, best: GraphSpec | None) -> str:
    """The closing line: the picture and the commands for best_graph.yaml, which `render` writes only when a graph
    was scored (a run stopped before its first evaluation has neither file, and must not link them)."""
    if best is None:
        return (
            "No graph was scored yet, so there is no graph.png or best_graph.yaml; continue the search with "
            f"`{resume_hint(run)}`."
        )
    opts = reproduce_options(run)
    return (
        f"Graph: ![graph](graph.png) — run it with `rolegraph run best_graph.yaml {opts}` or "
        f"`rolegraph eval best_graph.yaml {opts}`."
    )


def _spent_on(records: list[EvalRecord]) -> str:
    """What the charged evaluations were, of pilot, search and the final re-check, as the run had them (a TPE or
    warm-started run has no pilot of its own; an unfinished one no re-check)."""
    parts = ["pilot"] if own_pilot(records) else []
    parts += ["search"] + (["the final validation re-check"] if any(r.phase == "validation" for r in records) else [])
    return " and ".join(parts) if len(parts) < 3 else f"{parts[0]}, {parts[1]} and {parts[2]}"


def _space_notes(cfg: dict, records: list[EvalRecord]) -> list[str]:
    """Setup lines for what a plain space lacks: stages, the user's own roles, a warm start."""
    sp, out = cfg["space"], []
    if sp.get("stages"):
        stages = tuple(Stage.from_dict(st) for st in sp["stages"])
        out.append(f"- stages: {describe_stages(stages, StageOutput.from_dict(sp['stage_output']))}")
    if cfg.get("role_defs"):
        out.append(f"- roles of your own (stored with the run): {', '.join(d['name'] for d in cfg['role_defs'])}")
    if trimmed := sum(r.trimmed_items for r in records if r.phase != "prior"):
        runs = sum(r.n for r in records if r.phase != "prior")
        out.append(
            f"- evidence trimmed to fit a model's context window on {trimmed} of {runs} item runs (the searchers' "
            "lowest-ranked hits left out of a reader's prompt; the scores are of the trimmed prompts)"
        )
    if cfg.get("init_from"):
        prior = [r for r in records if r.phase == "prior"]
        out.append(
            f"- warm start from {cfg['init_from']}: {len(prior)} earlier evaluations ({sum(r.n for r in prior)} "
            "item runs) imported as evidence, not charged"
        )
    return out


def _raw(acc: float | None) -> str:
    return "-" if acc is None else f"{acc:.3f}"


def _raw_ci(acc: float | None, n: int) -> str:
    return "-" if acc is None else fmt_ci(wilson_interval(acc * n, n))


def _pg_table(cfg: dict, pg: dict) -> str:

    try:
        roles = register_defs(cfg["role_defs"]) if cfg.get("role_defs") else None
        space = SearchSpace.from_dict(cfg["space"], ModelPool.load(cfg.get("pool")), roles)
        graph = ProbabilisticGraph.from_dict(space, pg)
        table = graph.table(top_edges=TOP_EDGES)
        listed = graph.masks is None or graph.masks.edges_free.any()  # else: "edges: decided by the stages"
        if listed and len(graph.pairs) > TOP_EDGES:  # a cut list must say it is one
            table = table.replace("\nedges: ", f"\nedges (top {TOP_EDGES} of {len(graph.pairs)}): ", 1)
        return table
    except Exception as exc:  # noqa: BLE001 - a report should render even if the pool file moved
        return f"(probabilities not shown: {exc})"
