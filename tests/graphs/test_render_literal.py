"""`nodes_table` and `stages_table` hold a file's names, ids, models and params as text: printed on rich's default
console (markup read), a `[/]` in them used to crash it and a `[bold]` vanished."""
from __future__ import annotations

import io

from rich.console import Console

from rolegraph.graphs.io import load_graph
from rolegraph.graphs.render import nodes_table, to_text_table

NAME = "x[/]y"
STYLED = "[bold]keep[/bold]"


def shown(table) -> str:
    buf = io.StringIO()
    Console(file=buf, width=300).print(table)
    return buf.getvalue()


def test_nodes_table_prints_names_ids_models_and_params_as_they_are(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(
        f'name: "{NAME}"\nnodes:\n  - {{id: "[b]a", role: solver, model: "my/[/]x", params: {{temperature: 0.5}}}}\n'
        '  - {id: f, role: fuser, model: sim/llama-3.1-8b}\nedges: [["[b]a", f]]\n'
    )
    spec = load_graph(path)
    text = shown(nodes_table(spec))
    assert f"graph {NAME}" in text and "│ [b]a " in text and "│ my/[/]x " in text
    assert f"graph {STYLED}" in shown(nodes_table(spec, title=f"graph {STYLED}"))
    assert "my/[/]x" in to_text_table(spec)
