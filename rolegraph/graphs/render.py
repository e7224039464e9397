"""Pictures and tables of a graph: Mermaid text, a PNG (matplotlib, Agg), rich / plain tables.

Everything here reads a valid spec and changes nothing; `render_png` draws on its own
`Figure` (no pyplot state), so it is safe in servers and tests.
"""

from __future__ import annotations

import io
from pathlib import Path

import networkx as nx
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rolegraph.errors import OutputFileError
from rolegraph.graphs.analysis import levels
from rolegraph.graphs.nx import to_networkx
from rolegraph.graphs.spec import GraphSpec

MERMAID_ESCAPES = (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"))
"""Mermaid entity codes for characters that would break a quoted label ('#' first)."""
OUTPUT_FILL = "#ffd54f"
NODE_FILL = "#bbdefb"
FADED_FILL = "#eeeeee"
PNG_DPI = 120
INCHES_PER_LEVEL = 2.8
INCHES_PER_ROW = 1.5
MIN_FIG_WIDTH_IN = 4.0
MIN_FIG_HEIGHT_IN = 3.0
ARROW_MARGIN_PT = 28
"""Keeps arrow heads outside the label boxes."""
TEXT_TABLE_WIDTH = 120


def mermaid_text(text: str) -> str:
    for raw, code in MERMAID_ESCAPES:
        text = text.replace(raw, code)
    return text


def to_mermaid(spec: GraphSpec) -> str:
    """A `flowchart LR` with one box per node (id, role, model); the output node is marked; a loop's
    back edge is dotted with its bound, and a fan-out node says how many copies it may have.

    Mermaid ids are `n0, n1, ...` so any node id (spaces, dashes, keywords) stays valid.
    """
    ids = {node.id: f"n{i}" for i, node in enumerate(spec.nodes)}
    copies = {n: f for f in spec.fanout for n in f.nodes}
    lines = ["flowchart LR"]
    for node in spec.nodes:
        label = f"{mermaid_text(node.id)}<br/>{mermaid_text(node.role)} · {mermaid_text(node.model)}"
        if node.id in copies:
            f = copies[node.id]
            label += f"<br/>× up to {f.max_fanout}, one per {mermaid_text(f.source)} item"
        lines.append(f'    {ids[node.id]}["{label}"]')
    lines += [f"    {ids[s]} --> {ids[d]}" for s, d in spec.edges]
    lines += [
        f'    {ids[lp.source]} -. "loop ≤{lp.max_rounds} rounds, until {lp.until}" .-> {ids[lp.target]}'
        for lp in spec.loops
    ]
    output = spec.output_id()
    lines.append("    classDef output stroke-width:3px,fill:" + OUTPUT_FILL)
    lines.append(f"    class {ids[output]} output")
    return "\n".join(lines) + "\n"


def _label(spec: GraphSpec, node_id: str) -> str:
    node = spec.node(node_id)
    return f"{node.id}\n{node.role}\n{node.model.split('/', 1)[-1]}"


def figure_size(spec: GraphSpec) -> tuple[float, float]:
    """Inches (width, height) that fit the graph's levels side by side and its widest level."""
    level = levels(spec)
    n_levels = max(level.values(), default=1)
    rows = max((list(level.values()).count(k) for k in set(level.values())), default=1)
    return max(MIN_FIG_WIDTH_IN, INCHES_PER_LEVEL * n_levels), max(MIN_FIG_HEIGHT_IN, INCHES_PER_ROW * rows)


def layout(spec: GraphSpec) -> dict[str, tuple[float, float]]:
    """Each node's (x, y): x by level, and within a level the spec's node order, first on top. The levels go to
    networkx as ordered lists: given a node attribute instead, it groups each level in a set, so the order within a
    level (the picture, its PNG bytes) changed with PYTHONHASHSEED from run to run."""
    level = levels(spec)
    layers: dict[int, list[str]] = {}
    for node in reversed(spec.nodes):  # networkx stacks a layer's list bottom up
        layers.setdefault(level[node.id], []).append(node.id)
    pos = nx.multipartite_layout(to_networkx(spec), subset_key=layers, align="vertical")
    return {node_id: (float(x), float(y)) for node_id, (x, y) in pos.items()}


def draw(spec: GraphSpec, ax, *, title: str | None = None, faded: frozenset[str] = frozenset()) -> None:
    """Draw the graph on a matplotlib axis, left to right by level; `faded` nodes in grey (a router stage's reused
    nodes)."""
    g = to_networkx(spec)
    pos = layout(spec)
    output = spec.output_id()
    nx.draw_networkx_edges(
        g,
        pos,
        ax=ax,
        arrows=True,
        arrowstyle="-|>",
        arrowsize=14,
        edge_color="#555555",
        min_source_margin=ARROW_MARGIN_PT,
        min_target_margin=ARROW_MARGIN_PT,
    )
    for node_id, (x, y) in pos.items():
        is_out = node_id == output
        fill = OUTPUT_FILL if is_out else (FADED_FILL if node_id in faded else NODE_FILL)
        ax.text(
            x,
            y,
            _label(spec, node_id),
            ha="center",
            va="center",
            fontsize=8,
            fontweight="bold" if is_out else "normal",
            bbox={
                "boxstyle": "round,pad=0.4",
                "facecolor": fill,
                "edgecolor": "#333333",
                "linewidth": 2.0 if is_out else 0.8,
                "linestyle": "--" if node_id in faded else "-",
            },
        )
    ax.set_title(title or f"{spec.name}  (output: {output})", fontsize=10)
    ax.margins(0.25)
    ax.set_axis_off()


def check_output_file(path: str | Path) -> Path:
    """The path, once its directory is known to exist: checked before any work so a typo costs nothing."""
    path = Path(path).expanduser()
    if not path.parent.is_dir():
        raise OutputFileError(f"{path}: cannot write there (no directory {path.parent})")
    if path.is_dir():
        raise OutputFileError(f"{path}: is a directory; name a file to write")
    return path


def save_png(fig, path: Path) -> Path:
    """Write the figure; a path that cannot be written is the user's one-line error."""
    try:
        fig.savefig(path, dpi=PNG_DPI, format="png")
    except OSError as exc:
        raise OutputFileError(f"{path}: cannot write the picture ({exc.strerror or exc})") from None
    return path


def render_png(spec: GraphSpec, path: str | Path) -> Path:
    """Draw the graph left to right by level (see `analysis.levels`), output node highlighted."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = check_output_file(path)
    fig = Figure(figsize=figure_size(spec))
    FigureCanvasAgg(fig)
    draw(spec, fig.add_subplot())
    fig.tight_layout()
    return save_png(fig, path)


def structure_notes(spec: GraphSpec) -> list[str]:
    """One line per loop and fan-out group: what the nodes and edges alone do not show."""
    loops = [
        f"loop {loop.source} -> {loop.target}: at most {loop.max_rounds} rounds, until {loop.until} "
        f"(round r reads {'every earlier round' if loop.sees == 'all' else 'the last round'})"
        for loop in spec.loops
    ]
    fanouts = [
        f"fan-out from {group.source}: a copy of {', '.join(group.nodes)} per item of its {group.over}, "
        f"at most {group.max_fanout}"
        for group in spec.fanout
    ]
    return loops + fanouts


def nodes_table(spec: GraphSpec, title: str | None = None) -> Table:
    """A rich table: one row per node with its role, model, inputs and params; output marked; loops and
    fan-out groups in the caption. Title, caption and cells are `Text`: they hold the file's names, ids and
    values, and rich would read a `[/]` in a string as markup (and crash on it)."""
    output = spec.output_id()
    notes = structure_notes(spec)
    caption = Text("\n".join(notes), style="table.caption") if notes else None  # the styles rich gives strings
    table = Table(
        title=Text(title or f"graph {spec.name}", style="table.title"), caption=caption, caption_justify="left"
    )
    table.add_column("node")
    table.add_column("role")
    table.add_column("model", no_wrap=True)
    table.add_column("inputs")  # wraps between ids (", "), never inside one
    table.add_column("params")
    for node in spec.nodes:
        params = ", ".join(f"{k}={v}" for k, v in sorted(node.params.items()))
        marker = " (output)" if node.id == output else ""
        cells = (node.id + marker, node.role, node.model, ", ".join(spec.predecessors(node.id)) or "-", params or "-")
        table.add_row(*(Text(cell) for cell in cells))
    return table


def to_text_table(spec: GraphSpec) -> str:
    """`nodes_table` as plain text (no colours), for logs and non-terminal output."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=TEXT_TABLE_WIDTH, color_system=None, force_terminal=False)
    console.print(nodes_table(spec))
    return buffer.getvalue()
