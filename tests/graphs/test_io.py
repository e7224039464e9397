"""Graph files: loading YAML/JSON, every kind of malformed input, saving, and the content hash."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolegraph.errors import GraphError
from rolegraph.graphs.io import (MAX_GRAPH_FILE_BYTES, MAX_NESTING_DEPTH, MAX_VALUES, dumps_yaml, graph_hash,
                                 load_graph, save_graph)
from rolegraph.graphs.spec import GraphSpec, NodeSpec

FIXTURES = Path(__file__).parent / "fixtures"


def _problems(path: Path) -> list[str]:
    with pytest.raises(GraphError) as info:
        load_graph(path)
    assert info.value.source == str(path)
    return info.value.problems


def test_yaml_and_json_fixtures_load_to_the_same_graph():
    from_yaml = load_graph(FIXTURES / "valid_vote3.yaml")
    from_json = load_graph(FIXTURES / "valid_vote3.json")
    assert [n.id for n in from_yaml.nodes] == ["a", "b", "c", "f"]
    assert from_yaml.node("f").params == {"temperature": 0.2}
    assert from_yaml.edges == [("a", "f"), ("b", "f"), ("c", "f")]
    assert graph_hash(from_yaml) == graph_hash(from_json)


def test_unknown_extension_is_sniffed(tmp_path):
    text = (FIXTURES / "valid_vote3.json").read_text()
    (tmp_path / "g.graph").write_text(text)
    (tmp_path / "g.txt").write_text((FIXTURES / "valid_vote3.yaml").read_text())
    assert load_graph(tmp_path / "g.graph").node_ids == load_graph(tmp_path / "g.txt").node_ids


def test_integer_ids_are_accepted_as_strings(tmp_path):
    path = tmp_path / "ints.yaml"
    path.write_text("nodes:\n  - {id: 1, role: solver, model: m}\n  - {id: 2, role: fuser, model: m}\n"
                    "edges: [[1, 2]]\noutput: 2\n")
    spec = load_graph(path)
    assert spec.node_ids == ["1", "2"] and spec.edges == [("1", "2")] and spec.output == "2"


@pytest.mark.parametrize("fixture, expected", [
    ("bad_yaml_syntax.yaml", "line 4"),
    ("bad_json_syntax.json", "line 2"),
    ("duplicate_key.yaml", "duplicate key 'nodes'"),
    ("top_level_list.yaml", "got list"),
    ("empty.yaml", "empty graph file"),
    ("missing_nodes.yaml", "missing field 'nodes'"),
    ("node_not_mapping.yaml", "node 1: expected a mapping"),
    ("missing_model.yaml", "node 1 ('a'): missing field 'model'"),
    ("misspelled_field.yaml", "unknown field 'modle'"),
    ("edge_not_pair.yaml", "edge 1: expected a pair [src, dst]"),
    ("params_not_mapping.yaml", "node 1 ('a'): field 'params'"),
])
def test_malformed_files_name_the_problem(fixture, expected):
    problems = _problems(FIXTURES / fixture)
    assert any(expected in p for p in problems), problems
    assert all("\n" not in p for p in problems)


def test_missing_file_and_directory(tmp_path):
    assert _problems(tmp_path / "nope.yaml") == ["graph file not found"]
    assert _problems(tmp_path) == ["not a regular file"]


def test_not_utf8(tmp_path):
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"name: x\nnodes: \xff\xfe\x00\n")
    assert "not UTF-8" in _problems(path)[0]


def test_too_large_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (MAX_GRAPH_FILE_BYTES + 1))
    assert "too large" in _problems(path)[0]


@pytest.mark.parametrize("suffix, text", [
    (".json", "[" * 50_000 + "]" * 50_000),
    (".yaml", "[" * 50_000 + "]" * 50_000),
    (".json", '{"nodes": ' + "[" * (MAX_NESTING_DEPTH + 5) + "]" * (MAX_NESTING_DEPTH + 5) + "}"),
])
def test_deep_nesting_is_refused(tmp_path, suffix, text):
    path = tmp_path / f"deep{suffix}"
    path.write_text(text)
    assert "nested too deeply" in _problems(path)[0]


def test_yaml_alias_bomb_is_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    lines.append("nodes: *a8")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert 10 ** 9 > MAX_VALUES
    assert "too large" in _problems(path)[0]


def test_json_duplicate_key(tmp_path):
    path = tmp_path / "dup.json"
    path.write_text('{"nodes": [], "nodes": []}')
    assert "duplicate key 'nodes'" in _problems(path)[0]


def test_several_problems_are_all_reported(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text("name: 3\nnodes:\n  - {id: a, role: solver}\n  - {id: b, model: m, role: r, colour: red}\n"
                    "edges: [[a], 7]\nsurprise: 1\n")
    problems = _problems(path)
    joined = "\n".join(problems)
    for expected in ("field 'name'", "node 1 ('a'): missing field 'model'", "node 2 ('b'): unknown field 'colour'",
                     "edge 1:", "edge 2:", "unknown field 'surprise'"):
        assert expected in joined, joined
    assert len(problems) == len(set(problems))


def test_save_and_load_round_trip_yaml_and_json(tmp_path):
    spec = load_graph(FIXTURES / "valid_vote3.yaml").model_copy(update={"description": "three: voters\n# not a comment"})
    for name in ("out.yaml", "out.json"):
        path = save_graph(spec, tmp_path / name)
        again = load_graph(path)
        assert again == spec
    assert json.loads((tmp_path / "out.json").read_text())["edges"][0] == ["a", "f"]


def test_dumps_yaml_layout_one_line_per_node_and_edge():
    spec = load_graph(FIXTURES / "valid_vote3.yaml")
    text = dumps_yaml(spec)
    lines = text.splitlines()
    assert lines[0] == "name: vote3"
    assert "  - {id: f, role: fuser, model: sim/llama-3.1-8b, params: {temperature: 0.2}}" in lines
    assert "  - [a, f]" in lines
    assert lines[-1] == "output: f"


def test_save_into_missing_directory_is_a_graph_error(tmp_path):
    spec = load_graph(FIXTURES / "valid_vote3.yaml")
    with pytest.raises(GraphError, match="cannot write"):
        save_graph(spec, tmp_path / "no" / "such" / "dir.yaml")


# --- content hash -------------------------------------------------------------------------------

MODELS = ["sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"]
ROLES = ["solver", "verifier", "fuser"]


@st.composite
def dags(draw):
    """A random DAG spec (edges only from lower to higher index) with params."""
    n = draw(st.integers(1, 7))
    nodes = []
    for i in range(n):
        params = draw(st.dictionaries(st.sampled_from(["temperature", "max_tokens", "tools", "x"]),
                                      st.one_of(st.integers(0, 5), st.text(max_size=3)), max_size=3))
        nodes.append(NodeSpec(id=f"n{i}", role=draw(st.sampled_from(ROLES)), model=draw(st.sampled_from(MODELS)),
                              params=params))
    pairs = [(f"n{i}", f"n{j}") for i in range(n) for j in range(i + 1, n)]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    return GraphSpec(name="g", nodes=nodes, edges=edges, output=f"n{n - 1}" if draw(st.booleans()) else None)


@settings(max_examples=40, deadline=None)
@given(spec=dags(), seed=st.integers(0, 10_000))
def test_hash_ignores_order_name_and_params_key_order(spec, seed):
    rng = random.Random(seed)
    nodes = [n.model_copy(update={"params": dict(reversed(list(n.params.items())))}) for n in spec.nodes]
    rng.shuffle(nodes)
    edges = list(spec.edges)
    rng.shuffle(edges)
    shuffled = GraphSpec(name="other", description="different words", nodes=nodes, edges=edges, output=spec.output)
    assert graph_hash(shuffled) == graph_hash(spec)
    assert len(graph_hash(spec)) == 16 and int(graph_hash(spec), 16) >= 0


@settings(max_examples=40, deadline=None)
@given(spec=dags(), which=st.integers(0, 6))
def test_hash_changes_with_content(spec, which):
    node = spec.nodes[which % len(spec.nodes)]
    other_model = next(m for m in MODELS if m != node.model)
    changed = spec.model_copy(update={"nodes": [n.model_copy(update={"model": other_model}) if n is node else n
                                                for n in spec.nodes]})
    assert graph_hash(changed) != graph_hash(spec)
    retuned = spec.model_copy(update={"nodes": [n.model_copy(update={"params": {**n.params, "temperature": 1.5}})
                                                if n is node else n for n in spec.nodes]})
    if node.params.get("temperature") != 1.5:
        assert graph_hash(retuned) != graph_hash(spec)


def test_hash_treats_explicit_single_sink_output_like_none():
    spec = load_graph(FIXTURES / "valid_vote3.yaml")
    assert graph_hash(spec) == graph_hash(spec.model_copy(update={"output": None}))
    assert graph_hash(spec) != graph_hash(spec.model_copy(update={"edges": spec.edges[:2]}))


def test_an_unknown_field_lists_the_fields_once():
    from rolegraph.errors import GraphError
    from rolegraph.graphs.io import spec_from_data

    with pytest.raises(GraphError) as far:
        spec_from_data({"name": "x", "nodes": [{"id": "a", "role": "solver", "model": "m"}], "zzz": 1})
    (line,) = far.value.problems
    assert line.startswith("unknown field 'zzz' (fields: name, description, nodes,") and "Known" not in line
    with pytest.raises(GraphError) as near:
        spec_from_data({"name": "x", "nodes": [{"id": "a", "role": "solver", "model": "m"}], "outptu": "a"})
    assert near.value.problems[0].endswith("Did you mean: output, fanout?")
