"""A graph file function given something that is not a path (None, a number, a dict, bytes): the project's own
one-line `GraphError` naming the function, its argument and the type given, as a bad file gets, never the bare
TypeError `Path(None)` raises from deep inside."""

from __future__ import annotations

import pytest

from rolegraph.errors import GraphError, RolegraphError
from rolegraph.graphs.io import load_data, load_graph, save_graph
from rolegraph.graphs.router_io import load_router, load_spec


class _BytesPathLike:
    def __fspath__(self) -> bytes:
        return b"graph.yaml"


@pytest.mark.parametrize("function", [load_graph, load_data, load_router, load_spec])
@pytest.mark.parametrize(
    ("bad", "given"),
    [(None, "got None"), (3, "got int 3"), ({"nodes": []}, "got dict {'nodes': []}"), (b"g.yaml", "got bytes b'g.yaml'")],
)
def test_a_non_path_names_the_function_the_argument_and_the_type(function, bad, given):
    with pytest.raises(GraphError) as info:
        function(bad)
    text = str(info.value)
    assert text == f"{function.__name__}: path must be a file path (str or pathlib.Path), {given}"
    assert "\n" not in text and isinstance(info.value, RolegraphError)


def test_a_pathlike_giving_bytes_is_the_wrong_type_too():
    with pytest.raises(GraphError, match=r"^load_graph: path must be a file path .*got _BytesPathLike"):
        load_graph(_BytesPathLike())


def test_a_real_path_still_reads_and_a_missing_one_still_says_so(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("name: g\nnodes:\n  - {id: a, role: solver, model: sim/llama-3.1-8b}\nedges: []\n")
    assert [n.id for n in load_graph(str(path)).nodes] == ["a"]
    assert [n.id for n in load_graph(path).nodes] == ["a"]
    with pytest.raises(GraphError, match="graph file not found"):
        load_graph(tmp_path / "missing.yaml")


def test_save_graph_to_a_non_path_names_the_argument(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("name: g\nnodes:\n  - {id: a, role: solver, model: sim/llama-3.1-8b}\nedges: []\n")
    spec = load_graph(path)
    with pytest.raises(GraphError) as info:
        save_graph(spec, None)
    assert str(info.value) == "save_graph: path must be a file path (str or pathlib.Path), got None"
