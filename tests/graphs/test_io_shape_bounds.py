"""A graph file's shape limits at their exact bounds, as documented in graphs/io.py: at most MAX_NESTING_DEPTH
levels (the top mapping is level 1), at most MAX_VALUES values counted after parsing (every mapping, list, key and
scalar once), and no lone surrogate in any string, keys included. Ids: integers become strings (YAML `id: 1`);
a bool or a float is not an id."""
from __future__ import annotations

import json

import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.io import MAX_NESTING_DEPTH, MAX_VALUES, load_data, load_graph


def write(tmp_path, text: str, name: str = "g.json"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def nested(levels: int) -> str:
    """A mapping (level 1) holding lists nested so that the innermost one is at level `levels`."""
    inner = levels - 1
    return '{"nodes": ' + "[" * inner + "]" * inner + "}"


def test_exactly_the_maximum_depth_is_read(tmp_path):
    data = load_data(write(tmp_path, nested(MAX_NESTING_DEPTH)))
    depth, value = 1, data["nodes"]
    while isinstance(value, list):
        depth += 1
        value = value[0] if value else None
    assert depth == MAX_NESTING_DEPTH


def test_one_level_more_than_the_maximum_is_refused(tmp_path):
    with pytest.raises(GraphError) as err:
        load_data(write(tmp_path, nested(MAX_NESTING_DEPTH + 1)))
    assert err.value.problems == [f"nested too deeply (more than {MAX_NESTING_DEPTH} levels)"]


def values_file(tmp_path, count: int):
    """A file of exactly `count` values: the top mapping, its key, the list, and count - 3 numbers."""
    return write(tmp_path, json.dumps({"nodes": [0] * (count - 3)}))


def test_exactly_the_maximum_number_of_values_is_read(tmp_path):
    assert len(load_data(values_file(tmp_path, MAX_VALUES))["nodes"]) == MAX_VALUES - 3


def test_one_value_more_than_the_maximum_is_refused(tmp_path):
    with pytest.raises(GraphError) as err:
        load_data(values_file(tmp_path, MAX_VALUES + 1))
    assert err.value.problems[0].startswith(f"too large: more than {MAX_VALUES:,} values")


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "\\ud800", "nodes": []}',  # in a value
        '{"nodes": [], "\\udc00x": 1}',  # in a key
        '{"nodes": [{"id": "a", "role": "solver", "model": "m", "params": {"\\ud83d": 1}}]}',  # in a nested key
    ],
)
def test_a_lone_surrogate_anywhere_is_refused(tmp_path, text):
    with pytest.raises(GraphError) as err:
        load_data(write(tmp_path, text))
    assert "lone surrogate" in err.value.problems[0]


def test_non_ascii_text_that_is_valid_unicode_is_read(tmp_path):
    data = load_data(write(tmp_path, '{"name": "gr\\u00e4ph \\ud83d\\ude00", "nodes": []}'))
    assert data["name"] == "gräph \U0001F600"


@pytest.mark.parametrize("bad", ["true", "1.5"])
def test_a_bool_or_float_id_is_refused_not_turned_into_a_string(tmp_path, bad):
    text = f"nodes:\n  - {{id: {bad}, role: solver, model: sim/llama-3.2-1b}}\nedges: []\n"
    with pytest.raises(GraphError) as err:
        load_graph(write(tmp_path, text, "g.yaml"))
    assert any(p.startswith("node 1: field 'id'") for p in err.value.problems)


def test_integer_ids_in_edges_and_output_become_strings(tmp_path):
    text = (
        "nodes:\n  - {id: 1, role: solver, model: sim/llama-3.2-1b}\n  - {id: 2, role: verifier, model: "
        "sim/llama-3.2-1b}\nedges:\n  - [1, 2]\noutput: 2\n"
    )
    spec = load_graph(write(tmp_path, text, "g.yaml"))
    assert [n.id for n in spec.nodes] == ["1", "2"]
    assert spec.edges == [("1", "2")]
    assert spec.output == "2"
