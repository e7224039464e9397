"""The sections of report.html about the graph and what the search learned: the best graph drawn, its per-node
statistics, and the textual gradients iteration by iteration (`reports/html.py` composes the page).

Their words come from `reports.wording`, which report.md shares: the two files must not call one graph chosen
and the other the best so far, or one feedback record "Initialisation" and the other the pilot.
"""

from __future__ import annotations

from rolegraph.errors import RolegraphError
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.run_reader import reproduce_options
from rolegraph.reports.html_parts import esc, fmt_num, html_figure, html_table
from rolegraph.reports.wording import best_graph_name, capitalised, feedback_label, no_feedback_text

FLOPS_ERROR = "_error"
"""The key `node_flops` files the reason under when per-node FLOPs cannot be computed."""


def best_graph_section(run: dict, best: GraphSpec | None, sim: str) -> str:
    if best is None:
        return '<p class="muted">No graph was evaluated yet.</p>'
    name = f"the {best_graph_name(run)}"
    fig = html_figure(
        run["run_dir"],
        "graph",
        f"{name}: {len(best.nodes)} nodes",
        f"{name}, output node {best.output_id()} highlighted{sim}",
    )
    rows = [
        [
            n.id + (" (output)" if n.id == best.output_id() else ""),
            n.role,
            n.model,
            ", ".join(best.predecessors(n.id)) or "-",
            ", ".join(f"{k}={v}" for k, v in sorted(n.params.items())) or "-",
        ]
        for n in best.nodes
    ]
    return (
        fig
        + html_table(["node", "role", "model", "inputs", "params"], rows)
        + '<p class="muted">Saved as best_graph.yaml: '
        f"<code>rolegraph eval best_graph.yaml {esc(reproduce_options(run))}</code></p>"
    )


def node_flops(run: dict, best: GraphSpec) -> dict[str, float]:
    """Each node's share of the budget in 1B-node FLOPs units at the task's token profile; {FLOPS_ERROR: why}
    when they cannot be computed. The pool file is read again for the models' sizes, and a page must render
    even when that file has moved or changed since the search (as report.md does): the section says why the
    figures are missing instead."""
    from rolegraph.graphs.analysis import TOKEN_PROFILES, in_degrees, reference_flops
    from rolegraph.graphs.analysis import node_flops as flops_of
    from rolegraph.models.pool import ModelPool

    try:
        profile = TOKEN_PROFILES[run["config"]["space"].get("family", "math")]
        pool = ModelPool.load(run["config"].get("pool"))
        unit = reference_flops(profile)
        # a node's prompt grows by one predecessor output per in-edge (the analysis module's rule)
        return {
            n: flops_of(
                pool.get(best.node(n).model), profile.prompt_tokens + k * profile.output_tokens, profile.output_tokens
            )
            / unit
            for n, k in in_degrees(best).items()
        }
    except (RolegraphError, AttributeError, KeyError, ValueError, OSError) as exc:
        return {FLOPS_ERROR: str(exc)}  # type: ignore[dict-item]


def nodes_section(run: dict, best: GraphSpec | None, sim: str) -> str:
    if best is None:
        return '<p class="muted">No graph yet.</p>'
    from rolegraph.graphs.analysis import in_degrees, levels

    level, degree = levels(best), in_degrees(best)
    flops = node_flops(run, best)
    measured = (run["state"].get("final") or {}).get("per_node") or {}  # the chosen graph on the test items
    head = ["node", "role", "model", "depth level", "in-degree", "FLOPs units"]
    numeric = {3, 4, 5}
    if measured:
        head += ["own answer right", "output agreed", "items"]
        numeric |= {6, 7, 8}
    rows = []
    for n in best.nodes:
        row = [n.id, n.role, n.model, level.get(n.id, 0), degree.get(n.id, 0), fmt_num(flops.get(n.id), 2)]
        if measured:
            st = measured.get(n.id, {})
            row += [fmt_num(st.get("correct_rate")), fmt_num(st.get("agree_rate")), st.get("n", "-")]
        rows.append(row)
    family = esc(run["config"]["space"].get("family", "math"))
    notes = [
        f"Depth level and in-degree from the graph; FLOPs units per node at the {family} "
        "token profile (one 1B node = 1; a node's prompt grows with its inputs)."
    ]
    if measured:
        notes.append(
            f"Measured on the test items: how often a node's own answer was right, and how often the "
            f"graph's output agreed with it{esc(sim)}."
        )
    else:
        notes.append(
            f"This run's store keeps no per-node answers for the {esc(best_graph_name(run))}; "
            "<code>rolegraph eval best_graph.yaml --task ...</code> prints them."
        )
    if FLOPS_ERROR in flops:
        notes.append(f"FLOPs units not shown: {esc(flops[FLOPS_ERROR])}")
    return html_table(head, rows, numeric=numeric) + "".join(f'<p class="muted">{t}</p>' for t in notes)


def gradients_section(run: dict) -> str:
    missing = no_feedback_text(run)
    if missing is not None:
        return f'<p class="muted">{esc(missing)}</p>'
    by_iter = {it.iteration: it for it in run["iterations"]}
    out = []
    for f in run["feedback"]:
        it = by_iter.get(f.iteration)
        meta = f"feedback agent {f.agent}"
        if it is not None:
            meta += f"; {it.evaluations} evaluations so far; best so far {fmt_num(it.best_objective)}"
        if f.attempts > 1:
            meta += f"; {f.attempts} attempts"
        helped = "".join(f"<li>{esc(h)}</li>" for h in f.helped)
        hurt = "".join(f"<li>{esc(h)}</li>" for h in f.hurt)
        title = esc(capitalised(feedback_label(f.iteration, run["records"], f.agent)))
        parts = [
            f'<div class="gradient" id="gradient-{f.iteration}"><h3>{title}</h3>',
            f'<div class="meta">{esc(meta)}</div>',
            f"<p>{esc(f.summary)}</p>",
        ]
        if helped:
            parts.append(f'<div><strong>Helped</strong><ul class="helped">{helped}</ul></div>')
        if hurt:
            parts.append(f'<div><strong>Hurt</strong><ul class="hurt">{hurt}</ul></div>')
        if f.fallback:
            parts.append(f'<p class="fallback">Note: {esc(f.fallback)}</p>')
        out.append("".join(parts) + "</div>")
    return "\n".join(out)


__all__ = ["best_graph_section", "gradients_section", "node_flops", "nodes_section"]
