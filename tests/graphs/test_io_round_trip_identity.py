"""What a saved graph file keeps, and what its hash tells apart: a graph's loops and fan-outs survive save and load
(both formats); edge direction is part of a graph's identity; a file saved with a UTF-8 byte-order mark (Windows
editors) reads as without; a router file handed to `load_graph` is named as one whether it says `kind: router` or
only has `stages:`."""
from __future__ import annotations

import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.io import graph_hash, load_graph, save_graph, spec_from_data

M1 = "sim/llama-3.2-1b"
LOOPED = {
    "name": "refine",
    "nodes": [
        {"id": "s", "role": "solver", "model": M1},
        {"id": "v", "role": "verifier", "model": M1},
    ],
    "edges": [["s", "v"]],
    "loops": [{"from": "v", "to": "s", "max_rounds": 3}],
}
FANNED = {
    "name": "plan",
    "nodes": [
        {"id": "p", "role": "planner", "model": M1},
        {"id": "s", "role": "solver", "model": M1},
        {"id": "f", "role": "fuser", "model": M1},
    ],
    "edges": [["p", "s"], ["s", "f"]],
    "fanout": [{"from": "p", "nodes": ["s"], "max_fanout": 4}],
}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
@pytest.mark.parametrize("data", [LOOPED, FANNED], ids=["loop", "fanout"])
def test_loops_and_fanouts_survive_save_and_load(tmp_path, suffix, data):
    spec = spec_from_data(data)
    back = load_graph(save_graph(spec, tmp_path / f"g{suffix}"))
    assert [(lp.source, lp.target, lp.max_rounds) for lp in back.loops] == [
        (lp["from"], lp["to"], lp["max_rounds"]) for lp in data.get("loops", [])
    ]
    assert [(f.source, f.nodes, f.max_fanout) for f in back.fanout] == [
        (f["from"], f["nodes"], f["max_fanout"]) for f in data.get("fanout", [])
    ]
    assert graph_hash(back) == graph_hash(spec)


def three(edges: list[list[str]]) -> dict:
    return {
        "nodes": [{"id": i, "role": "solver", "model": M1} for i in ("a", "b")]
        + [{"id": "c", "role": "fuser", "model": M1}],
        "edges": edges,
    }


def test_reversing_an_edge_makes_another_graph_with_another_hash():
    # both have the single sink c; only the edge between a and b points the other way
    forward = spec_from_data(three([["a", "b"], ["a", "c"], ["b", "c"]]))
    backward = spec_from_data(three([["b", "a"], ["a", "c"], ["b", "c"]]))
    assert forward.output_id() == backward.output_id() == "c"
    assert graph_hash(forward) != graph_hash(backward)


def test_a_graph_file_with_a_byte_order_mark_reads_as_without(tmp_path):
    text = '{"nodes": [{"id": "a", "role": "solver", "model": "sim/llama-3.2-1b"}], "edges": []}'
    plain, marked = tmp_path / "plain.json", tmp_path / "marked.json"
    plain.write_text(text, encoding="utf-8")
    marked.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert load_graph(marked) == load_graph(plain)


@pytest.mark.parametrize(
    "text",
    [
        "kind: router\nname: r\n",  # says so, stages missing
        "stages:\n  - graph: g.yaml\n",  # only stages
    ],
)
def test_load_graph_names_a_router_file_as_one(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GraphError) as err:
        load_graph(path)
    assert err.value.problems[0].startswith("this is a router file")


def test_a_loop_or_a_fanout_is_part_of_a_graphs_hash():
    static = {k: v for k, v in LOOPED.items() if k != "loops"}
    three_rounds = spec_from_data(LOOPED)
    five_rounds = spec_from_data({**LOOPED, "loops": [{"from": "v", "to": "s", "max_rounds": 5}]})
    hashes = {graph_hash(spec_from_data(static)), graph_hash(three_rounds), graph_hash(five_rounds)}
    assert len(hashes) == 3
    plain = {k: v for k, v in FANNED.items() if k != "fanout"}
    assert graph_hash(spec_from_data(plain)) != graph_hash(spec_from_data(FANNED))
