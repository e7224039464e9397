"""`rolegraph report RUN_DIR --html`: one self-contained HTML page for a search run.

Everything a person wants to look at in one file that opens anywhere, offline: the search curve,
the Pareto front, the best graph drawn, its per-node statistics, the textual gradients iteration by
iteration, and the settings. The figures are the run directory's PNGs (rendered from the store by
`report.render`) inlined as base64 data URIs; CSS is inline; nothing is fetched. Simulated runs say
so at the top and beside every number that comes from the sim pool.
"""

from __future__ import annotations

import json
import re
import time
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from rolegraph.fileio import write_atomic
from rolegraph.graphs.analysis import flops_phrase, flops_text
from rolegraph.models.provenance import REAL, SIMULATED, label_suffix
from rolegraph.money import money
from rolegraph.optimize.agent_usage import agent_usage
from rolegraph.optimize.pareto import front, points
from rolegraph.optimize.run_reader import chosen_graph, load_run, reproduce_options
from rolegraph.optimize.rundir import STORE_NAME, resume_command
from rolegraph.optimize.trace import run_simulation
from rolegraph.reports.html_parts import (
    FIGURES,
    ci_text,
    esc,
    fmt_num,
    html_card,
    html_figure,
    html_section,
    html_table,
)
from rolegraph.reports.html_sections import best_graph_section, gradients_section, nodes_section
from rolegraph.reports.markdown import cap_stop_facts, dollars_text, render, timed_out_text
from rolegraph.reports.router import ROUTER_TITLE, router_note
from rolegraph.reports.selection import (
    CANDIDATE_HEADERS,
    CANDIDATE_NUMERIC,
    SELECTION_NOTE,
    candidate_rows,
    selection_row,
)
from rolegraph.reports.wording import budget_text, restart_text

HTML_NAME = "report.html"
SECTIONS = (
    ("summary", "Summary"),
    ("curve", "Search curve"),
    ("pareto", "Pareto front"),
    ("graph", "Best graph"),
    ("nodes", "Per-node statistics"),
    ("gradients", "Textual gradients"),
    ("settings", "Settings"),
)
SIM_BANNER = "Simulated results (sim pool): they show the search working; they are not claims about real models."
PARTLY_BANNER = (
    "Partly simulated results: some answers came from sim models or serve-sim twins; they are not claims about "
    "the real models either."
)
MAX_PARETO_ROWS = 20
CODE_SPAN = re.compile(r"`([^`]*)`")
"""A command in backticks in text shared with report.md, shown as code on the page."""


def _summary(run: dict, sim: str) -> str:
    final = run["final"]
    spent = sum(r.n for r in run["records"] if r.phase in ("pilot", "search", "validation"))
    cards = []
    if final is not None:
        t = final.test
        cards.append(
            html_card(
                "chosen graph, test accuracy (held out)", f"{t.accuracy:.3f}", f"95% CI {ci_text(t.ci95)}, n={t.n}{sim}"
            )
        )
        row = selection_row(final)
        if row is not None and row.get("validation_accuracy_raw") is not None:
            note = (
                f"95% CI {ci_text(row['validation_ci95'])}, n={row['validation_items']}; optimistic: it chose the graph"
            )
            cards.append(
                html_card("validation accuracy (raw; selection)", f"{row['validation_accuracy_raw']:.3f}", note)
            )
        single = final.best_single
        if single is not None:
            of = f"; the best of {len(final.singles)} on these items: optimistic" if len(final.singles) > 1 else ""
            cards.append(
                html_card(
                    "best single model, test accuracy",
                    f"{single.accuracy:.3f}",
                    f"{single.label}, 95% CI {ci_text(single.ci95)}{sim}{of}",
                )
            )
        cards.append(
            html_card(
                "chosen graph, cost",
                flops_phrase(t.flops_units, 1),
                f"{t.latency_s:.2f} s and {money(t.dollars)} per item",
            )
        )
    cards.append(html_card("evaluations", f"{spent}", "item-level graph runs (pilot, search, validation)"))
    restart = restart_text(run)
    if restart is None:
        cards.append(html_card("status", f"{run['phase']}", f"after iteration {run['iteration']}"))
    else:
        cards.append(html_card("status", "not started", CODE_SPAN.sub(r"\1", restart)))
    body = [f'<div class="cards">{"".join(cards)}</div>']
    if final is not None:
        rows = [
            [
                "chosen graph",
                f"{final.test.accuracy:.3f}",
                ci_text(final.test.ci95),
                f"{final.test.latency_s:.2f}",
                money(final.test.dollars, ""),
                flops_text(final.test.flops_units),
            ]
        ]
        rows += [
            [
                f"single {s.label}",
                f"{s.accuracy:.3f}",
                ci_text(s.ci95),
                f"{s.latency_s:.2f}",
                money(s.dollars, ""),
                flops_text(s.flops_units),
            ]
            for s in sorted(final.singles, key=lambda s: -s.objective)
        ]
        body += [
            "<h3>Test items: chosen graph against single models</h3>",
            html_table(
                ["graph", "accuracy", "95% CI", "latency s", "$ per item", "FLOPs units"],
                rows,
                numeric={1, 3, 4, 5},
                classes=["chosen"],
            ),
        ]
        body += [
            "<h3>Top candidates re-checked on validation items</h3>",
            f'<p class="muted">{esc(SELECTION_NOTE[0].upper() + SELECTION_NOTE[1:])}.</p>',
            html_table(
                list(CANDIDATE_HEADERS),
                candidate_rows(final),
                numeric=set(CANDIDATE_NUMERIC),
                classes=["chosen" if c["hash"] == final.chosen_hash else "" for c in final.candidates],
            ),
        ]
    router = router_note(run["run_dir"])
    if router is not None:  # the router `demo` / `route fit` ended with, beside the graph it is measured against
        text = router.text(f"rolegraph run router.yaml {reproduce_options(run)}")
        para = CODE_SPAN.sub(r"<code>\1</code>", esc(text))
        body += [f'<h3 id="router">{esc(ROUTER_TITLE)}</h3>', f"<p>{para}</p>"]
    return "\n".join(body)


def _curve(run: dict, sim: str) -> str:
    cfg = run["config"]
    fig = html_figure(
        run["run_dir"],
        "curve",
        "best-so-far objective against evaluations",
        f"{cfg['optimizer']['name']} on {cfg['task']}: best-so-far objective against evaluations{sim}",
    )
    rows = [
        [it.iteration, it.evaluations, fmt_num(it.best_objective), fmt_num(it.batch_best)] for it in run["iterations"]
    ]
    table = html_table(
        ["iteration", "evaluations", "best so far (pooled, batch-adjusted)", "best of the batch (raw)"],
        rows,
        numeric={0, 1, 2, 3},
    )
    return f'<div class="split"><div>{fig}</div><div>{table}</div></div>'


def _pareto(run: dict, sim: str) -> str:
    pts = points(run["records"])
    best = front(pts)
    fig = html_figure(
        run["run_dir"],
        "pareto",
        "accuracy against latency of every graph, Pareto front circled",
        f"{len(pts)} graphs evaluated; the Pareto front (accuracy, latency, dollars) circled{sim}",
    )
    rows = [
        [
            p.graph_hash[:10],
            fmt_num(p.raw_accuracy),
            f"{p.accuracy:.3f}",
            f"{p.latency_s:.2f}",
            money(p.dollars, ""),
            p.n,
        ]
        for p in best[:MAX_PARETO_ROWS]
    ]
    table = html_table(
        ["graph", "accuracy (raw)", "accuracy (batch-adjusted)", "latency s", "$ per item", "items"],
        rows,
        numeric={1, 2, 3, 4, 5},
    )
    return f'<div class="split"><div>{fig}</div><div><h3>On the front</h3>{table}</div></div>'


def _flat(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out.append((prefix, json.dumps(value) if not isinstance(value, str) else value))


def _settings(run: dict) -> str:
    """The stored settings, led by the dollar cap and the dollars paid over all sessions (report.md's Setup line,
    `dollars_text`) and the requests abandoned at a timeout (`timed_out_text`): the config alone gives the cap but
    never what was paid or may be billed."""
    pairs: list[tuple[str, str]] = []
    _flat("", run["config"], pairs)
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs)
    verb = "Resume" if run["checkpointed"] else "Start again (nothing to resume yet)"
    dollars = dollars_text(run)
    abandoned = timed_out_text(run)
    return (
        (f'<p id="dollars">{esc(dollars[0].upper() + dollars[1:])}.</p>' if dollars else "")
        + (f'<p id="timed-out">{esc(abandoned[0].upper() + abandoned[1:])}</p>' if abandoned else "")
        + f'<dl class="settings">{items}</dl>'
        f'<p class="muted">{verb} or re-render: <code>{esc(resume_command(run["run_dir"]))}</code>, '
        f"<code>rolegraph report {esc(run['run_dir'])} --html</code></p>"
    )


def _template(name: str) -> str:
    return resources.files("rolegraph.reports").joinpath("templates", name).read_text(encoding="utf-8")


def html_page(run: dict) -> str:
    """The whole page for a loaded run (see `report.load_run`)."""
    from rolegraph import __version__

    if "paid_usd" not in run:  # a run from `load_run` alone (`run_report.render`): the store's paid figures
        facts = cap_stop_facts(run["run_dir"])
        run = run | {"paid_usd": facts["paid_usd"], "timed_out": facts["timed_out"]}
    cfg = run["config"]
    simulation = run_simulation(run)
    simulated = simulation != REAL  # the banner: any simulated answer
    sim = label_suffix(simulation)
    if sim:
        sim += f" in world {cfg.get('world', 0)}"
    best = chosen_graph(run)
    bodies = {
        "summary": _summary(run, sim),
        "curve": _curve(run, sim),
        "pareto": _pareto(run, sim),
        "graph": best_graph_section(run, best, sim),
        "nodes": nodes_section(run, best, sim),
        "gradients": gradients_section(run),
        "settings": _settings(run),
    }
    banner = (
        f'<p class="banner" id="simulated"><span class="tag">{esc(simulation.upper())}</span>'
        f"{esc(SIM_BANNER if simulation == SIMULATED else PARTLY_BANNER)}</p>"
        if simulated
        else ""
    )
    usage = agent_usage(cfg["optimizer"].get("agent"), run["feedback"])
    if usage is not None and usage.warning():
        banner += f'<p class="banner" id="agent-fallback">{esc(usage.warning())}</p>'
    subtitle = (
        f"{cfg['optimizer']['name']}"
        + (f" with the feedback agent {usage.headline()}" if usage else "")
        + f" on task {cfg['task']}; objective {cfg['space']['objective']['kind']}; "
        f"budget {budget_text(cfg['space'])}"
    )
    return Template(_template("report.html")).substitute(
        title=esc(f"Search report: {cfg['task']} / {cfg['optimizer']['name']}{sim}"),
        subtitle=esc(subtitle),
        banner=banner,
        css=_template("report.css"),
        version=esc(__version__),
        nav="".join(f'<a href="#{k}">{esc(t)}</a>' for k, t in SECTIONS),
        sections="\n".join(html_section(k, t, bodies[k]) for k, t in SECTIONS),
        store=esc(Path(run["run_dir"]) / STORE_NAME),
        generated=esc(time.strftime("%Y-%m-%d %H:%M:%S %Z")),
    )


def write_html(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the page (default RUN_DIR/report.html); renders the run's figures first when missing."""
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    if not all((run_dir / name).is_file() for name in FIGURES.values()):
        render(run_dir)
        run = load_run(run_dir)
    path = Path(out) if out is not None else run_dir / HTML_NAME
    write_atomic(path, html_page(run))
    return path


__all__ = ["HTML_NAME", "html_page", "write_html"]
