"""Pictures and tables of a router: Mermaid (one subgraph per stage, escalation edges labelled with the stop
rule), a PNG (one panel per stage, reused nodes dashed and grey), and a rich summary of the stages."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text

from rolegraph.graphs.analysis import TokenProfile
from rolegraph.graphs.render import check_output_file, draw, figure_size, mermaid_text, save_png
from rolegraph.graphs.router import RouterSpec, stage_costs, stage_flops
from rolegraph.models.pool import ModelPool
from rolegraph.money import money


def router_mermaid(router: RouterSpec) -> str:
    """A `flowchart LR`: each stage a subgraph of its nodes; an edge from each stage's output to the next stage
    labelled "escalate unless <rule>"; reused nodes drawn once, in the stage that first runs them."""
    lines = ["flowchart LR"]
    ids: dict[str, str] = {}
    reuse = router.reuse()
    outputs = []
    for i, (stage, reused) in enumerate(zip(router.stages, reuse), start=1):
        lines.append(f'    subgraph S{i}["stage {i}: {mermaid_text(stage.graph.name)}"]')
        for node in stage.graph.nodes:
            if node.id in reused:
                ids[f"{i}:{node.id}"] = ids[_key(reused[node.id])]
                continue
            mid = ids[f"{i}:{node.id}"] = f"s{i}n{len(ids)}"
            label = f"{mermaid_text(node.id)}<br/>{mermaid_text(node.role)} · {mermaid_text(node.model)}"
            if stage.plurality and node.id == stage.graph.output_id():  # never runs: its inputs vote
                label = "plurality of its inputs<br/>(no model call)"
            lines.append(f'        {mid}["{label}"]')
        lines.append("    end")
        lines += [f"    {ids[f'{i}:{s}']} --> {ids[f'{i}:{d}']}" for s, d in stage.graph.edges]
        outputs.append(ids[f"{i}:{stage.graph.output_id()}"])
    for i, stage in enumerate(router.stages[:-1], start=1):
        rule = mermaid_text(stage.stop.text()) if stage.stop else ""
        lines.append(f'    {outputs[i - 1]} -. "escalate unless {rule}" .-> S{i + 1}')
    lines.append("    classDef output stroke-width:3px,fill:#ffd54f")
    lines.append(f"    class {','.join(outputs)} output")
    return "\n".join(lines) + "\n"


def _key(flat: str) -> str:
    stage, node = flat[1:].split(".", 1)
    return f"{stage}:{node}"


def render_router_png(router: RouterSpec, path: str | Path) -> Path:
    """One panel per stage, left to right, each titled with its stop rule."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = check_output_file(path)
    sizes = [figure_size(s.graph) for s in router.stages]
    fig = Figure(figsize=(sum(w for w, _ in sizes), max(h for _, h in sizes)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(router.stages), squeeze=False, width_ratios=[w for w, _ in sizes])[0]
    for i, (stage, reused, ax) in enumerate(zip(router.stages, router.reuse(), axes), start=1):
        rule = f"stop if {stage.stop.text()}" if stage.stop else "always answers"
        rule += "; answers by plurality (its output never runs)" if stage.plurality else ""
        draw(stage.graph, ax, title=f"stage {i}: {stage.graph.name}\n{rule}", faded=frozenset(reused))
    fig.tight_layout()
    return save_png(fig, path)


def stages_table(router: RouterSpec, pool: ModelPool, profile: TokenProfile, title: str | None = None) -> Table:
    """One row per stage: its graph, what it adds when it runs (FLOPs units, tokens, dollars), its stop rule."""
    table = Table(title=Text(title or f"router {router.name}", style="table.title"))  # names are never markup
    for col in ("stage", "graph", "nodes run", "+FLOPs units", "+est. tokens", "+est. $", "then"):
        # ids and figures stay whole; the node list and the rule wrap between words
        whole = col in ("stage", "graph") or col.startswith("+")
        table.add_column(col, justify="right" if col.startswith("+") else "left", no_wrap=whole)
    try:
        flops: list[float | None] = list(stage_flops(router, pool, profile))
    except Exception:  # noqa: BLE001 - a model without sizes: the other columns still say what they can
        flops = [None] * len(router.stages)
    costs = stage_costs(router, pool, profile)
    for i, (stage, reused, f, (tokens, dollars)) in enumerate(zip(router.stages, router.reuse(), flops, costs), 1):
        run = [n.id for n in stage.runs() if n.id not in reused]
        nodes = ", ".join(run) + (f" (reads {', '.join(reused)})" if reused else "")
        nodes += " (answers by their plurality)" if stage.plurality else ""
        then = f"stop if {stage.stop.text()}, else stage {i + 1}" if stage.stop else "answer"
        table.add_row(
            str(i),
            Text(stage.graph.name),
            Text(nodes),
            "n/a" if f is None else f"{f:.2f}",
            f"{tokens:,}",
            money(dollars, ""),
            Text(then),
        )
    return table
