"""Mermaid text, PNG pictures and text tables of graphs."""
from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from rolegraph.graphs.builder import Graph
from rolegraph.graphs.io import load_graph
from rolegraph.graphs.render import render_png, to_mermaid, to_text_table

EXAMPLES = Path(__file__).parents[2] / "examples" / "graphs"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_mermaid_has_every_node_edge_and_marks_the_output():
    spec = load_graph(EXAMPLES / "mindsearch.yaml")
    text = to_mermaid(spec)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    boxes = dict(re.findall(r'^\s+(n\d+)\["([^"]*)"\]$', text, flags=re.M))
    assert len(boxes) == len(spec.nodes)
    by_node = {label.split("<br/>")[0]: mid for mid, label in boxes.items()}
    assert set(by_node) == set(spec.node_ids)
    arrows = re.findall(r"^\s+(n\d+) --> (n\d+)$", text, flags=re.M)
    assert sorted(arrows) == sorted((by_node[s], by_node[d]) for s, d in spec.edges)
    assert f"class {by_node['verify']} output" in text
    assert "verifier · sim/llama-3.1-70b" in boxes[by_node["verify"]]


def test_mermaid_escapes_awkward_ids():
    spec = Graph().node('say "hi" <now> #1', "solver", "m").build()
    text = to_mermaid(spec)
    label = re.search(r'n0\["(.*)"\]', text).group(1)
    assert '"' not in label and "<now>" not in label and "#quot;" in label and "#lt;now#gt;" in label


@pytest.mark.parametrize("name", ["single.yaml", "mixed.yaml"])
def test_png_is_written_and_sized_to_the_graph(tmp_path, name):
    spec = load_graph(EXAMPLES / name)
    out = render_png(spec, tmp_path / "g.png")
    data = out.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000
    png_width, png_height = struct.unpack(">II", data[16:24])
    assert png_width > 100 and png_height > 100


def test_wider_graph_gives_taller_picture(tmp_path):
    one = render_png(load_graph(EXAMPLES / "single.yaml"), tmp_path / "one.png").read_bytes()
    five = render_png(load_graph(EXAMPLES / "vote5.yaml"), tmp_path / "five.png").read_bytes()
    assert struct.unpack(">I", five[20:24])[0] > struct.unpack(">I", one[20:24])[0]


def test_text_table_lists_nodes_inputs_and_output():
    spec = load_graph(EXAMPLES / "vote5.yaml")
    text = to_text_table(spec)
    assert "\x1b[" not in text
    for node in spec.nodes:
        assert node.id in text
    fuse_line = next(line for line in text.splitlines() if "fuse" in line and "fuser" in line)
    assert "(output)" in fuse_line and "s1, s2" in fuse_line


def test_a_png_into_a_missing_directory_is_the_users_error_before_drawing(tmp_path):
    from rolegraph.errors import OutputFileError
    from rolegraph.graphs.io import load_graph
    from rolegraph.graphs.render import render_png

    spec = load_graph(Path(__file__).parents[2] / "examples" / "graphs" / "vote5.yaml")
    with pytest.raises(OutputFileError, match="no directory"):
        render_png(spec, tmp_path / "missing" / "g.png")
    with pytest.raises(OutputFileError, match="is a directory"):
        render_png(spec, tmp_path)
    assert not (tmp_path / "missing").exists()


def test_show_png_into_a_missing_directory_prints_one_line_and_no_table(tmp_path, capsys):
    from rolegraph.cli import main

    graph = Path(__file__).parents[2] / "examples" / "graphs" / "vote5.yaml"
    with pytest.raises(SystemExit) as exc:
        main(["show", str(graph), "--png", str(tmp_path / "missing" / "g.png")])
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and out == ""
    assert err.strip().splitlines() == [f"error: {tmp_path / 'missing' / 'g.png'}: cannot write there (no directory {tmp_path / 'missing'})"]


def test_the_nodes_table_names_loops_and_fan_out_groups():
    from rolegraph.graphs.render import to_text_table

    examples = Path(__file__).parents[2] / "examples" / "graphs"
    revise = " ".join(to_text_table(load_graph(examples / "revise.yaml")).split())
    assert "loop verify -> solve: at most 3 rounds, until accepted (round r reads the last round)" in revise
    search = " ".join(to_text_table(load_graph(examples / "mindsearch.yaml")).split())
    assert "fan-out from plan: a copy of search per item of its sub_questions, at most 4" in search
    assert "loop" not in " ".join(to_text_table(load_graph(examples / "vote5.yaml")).split()).lower()
