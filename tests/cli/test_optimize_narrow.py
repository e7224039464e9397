"""The best graph's table that `optimize` (and `demo`) prints keeps every id whole on a narrow terminal: rich, left
to itself, cut them (`n…`, `s…`, `o…` at 40 columns), so the graph the search found could not be read off it."""
from __future__ import annotations

import re

from rich.console import Console

from rolegraph.cli import main, tables
from rolegraph.graphs.io import load_graph

NARROW = 40
SMALL = ["--task", "gsm", "--task-size", "120", "--samples", "2", "--batch", "4", "--validation-items", "4",
         "--test-items", "8", "--iterations", "2", "--route-items", "0", "--budget", "18"]


def test_the_best_graph_table_keeps_its_ids_whole_at_40_columns(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    screen = {"width": NARROW, "force_terminal": True, "color_system": None}
    monkeypatch.setattr(tables, "Console", lambda **kw: Console(**{**screen, **kw}))
    main(["optimize", *SMALL, "--out", str(tmp_path / "run")])
    out = capsys.readouterr().out
    table = out[: out.index("best graph:")]
    assert "…" not in table
    cells = set(re.sub(r"[│┃┏┓┗┛┡┩└┘┌┐├┤┬┴┼╇╈╋━─═,]", " ", table).split())
    best = load_graph(tmp_path / "run" / "best_graph.yaml")
    assert {n.id for n in best.nodes} | {n.role for n in best.nodes} | {n.model for n in best.nodes} <= cells
