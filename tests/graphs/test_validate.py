"""Semantic validation: one message per problem, naming the node or edge."""
from __future__ import annotations

from pathlib import Path

import pytest

from rolegraph.agents.registry import builtin_role_names
from rolegraph.errors import GraphError
from rolegraph.graphs.io import load_graph
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.graphs.validate import check_graph, validate_graph
from rolegraph.models.pool import ModelPool

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parents[2] / "examples" / "graphs"
M1 = "sim/llama-3.2-1b"


@pytest.fixture(scope="module")
def pool() -> ModelPool:
    return ModelPool.builtin()


def spec(nodes: list[tuple[str, str, str]], edges=(), output=None, **params) -> GraphSpec:
    return GraphSpec(nodes=[NodeSpec(id=i, role=r, model=m, params=params.get(i, {})) for i, r, m in nodes],
                     edges=list(edges), output=output)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")) + [FIXTURES / "valid_vote3.yaml"],
                         ids=lambda p: p.name)
def test_example_graphs_are_valid(path, pool):
    assert validate_graph(load_graph(path), pool) == []


@pytest.mark.parametrize("fixture, expected", [
    ("unknown_role.yaml", "node 'a': unknown role 'solvr'. Did you mean: solver?"),
    ("unknown_model.yaml", "node 'a': unknown model 'sim/llama-3.2-3B'. Did you mean: sim/llama-3.2-3b"),
    ("dangling_edge.yaml", "edge b -> f: unknown node 'b'"),
    ("self_loop.yaml", "edge a -> a: self-loop"),
    ("duplicate_edge.yaml", "edge a -> f: listed 2 times"),
    ("cycle.yaml", "cycle: a -> b -> c -> a"),
    ("two_sinks.yaml", "no single output: 2 nodes have no successor (a, b)"),
    ("output_not_node.yaml", "output 'fuse' is not a node"),
    ("unreachable.yaml", "node 'b' cannot reach the output 'f'"),
    ("duplicate_ids.yaml", "duplicate node id 'a' (nodes 1, 2)"),
    ("no_nodes.yaml", "graph has no nodes"),
    ("bad_temperature.yaml", "node 'a': params.temperature must be a number"),
])
def test_each_problem_kind_has_one_clear_message(fixture, expected, pool):
    problems = validate_graph(load_graph(FIXTURES / fixture), pool)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_all_problems_are_reported_together(pool):
    g = spec([("a", "solver", M1), ("b", "judge", M1), ("c", "fuser", "sim/nope"), ("d", "fuser", M1)],
             edges=[("a", "c"), ("b", "c"), ("c", "a"), ("x", "d"), ("d", "d")])
    problems = validate_graph(g, pool)
    text = "\n".join(problems)
    assert "node 'b': unknown role 'judge'" in text
    assert "node 'c': unknown model 'sim/nope'" in text
    assert "edge x -> d: unknown node 'x'" in text
    assert "edge d -> d: self-loop" in text
    assert "cycle: a -> c -> a" in text
    assert len(problems) == len(set(problems)) >= 5


def test_pool_none_skips_the_model_check_only():
    g = spec([("a", "solver", "my/private-model")])
    assert validate_graph(g, None) == []
    assert "unknown role" in validate_graph(spec([("a", "poet", "my/private-model")]), None)[0]


def test_roles_can_be_extended_by_the_caller(pool):
    g = spec([("a", "critic", M1)])
    assert validate_graph(g, pool, roles=[*builtin_role_names(), "critic"]) == []
    assert validate_graph(g, pool, default_roles=lambda: ["critic"]) == []
    assert "unknown role 'critic'" in validate_graph(g, pool)[0]


def test_cycle_reported_once_per_knot_even_when_dense(pool):
    ids = [f"n{i}" for i in range(8)]
    edges = [(a, b) for a in ids for b in ids if a != b]  # complete digraph: many simple cycles
    problems = validate_graph(spec([(i, "solver", M1) for i in ids], edges), pool)
    cycles = [p for p in problems if p.startswith("cycle:")]
    assert len(cycles) == 1
    path = cycles[0].removeprefix("cycle: ").split(" (")[0].split(" -> ")
    assert path[0] == path[-1] and all((a, b) in edges for a, b in zip(path, path[1:]))


def test_explicit_output_makes_other_sinks_unreachable_problems(pool):
    g = spec([("a", "solver", M1), ("b", "solver", M1), ("f", "fuser", M1)], edges=[("a", "f")], output="a")
    problems = validate_graph(g, pool)
    assert "node 'b' cannot reach the output 'a' (its work would be unused)" in problems
    assert "node 'f' cannot reach the output 'a' (its work would be unused)" in problems


def test_params_checks(pool):
    g = spec([("a", "solver", M1)], a={"temperature": 3, "max_tokens": 0, "tools": "search"})
    problems = validate_graph(g, pool)
    assert len(problems) == 3
    assert validate_graph(spec([("a", "solver", M1)], a={"temperature": 0, "max_tokens": 64, "tools": ["calc"],
                                                          "tool_protocol": "text", "coalesce": False}), pool) == []


def test_an_unknown_params_key_is_a_problem_with_a_suggestion(pool):
    """Nothing reads a key outside NODE_PARAMS, so a typo would silently leave the role's default in force."""
    problems = validate_graph(spec([("a", "solver", M1)], a={"temprature": 0.5, "tool_protocol": "json"}), pool)
    assert problems == [
        "node 'a': unknown params key 'temprature'. Did you mean: temperature?",
        "node 'a': params.tool_protocol must be one of native, text, got 'json'",
    ]


def test_tool_names_are_checked_against_the_toolbox_and_the_declared_servers():
    from rolegraph.graphs.io import spec_from_data
    from rolegraph.graphs.validate import tool_problems

    g = spec_from_data({
        "name": "t",
        "nodes": [{"id": "a", "role": "searcher", "model": M1,
                   "params": {"tools": ["calculater", "wiki.search", "wikki.search", "search"]}}],
        "mcp_servers": [{"name": "wiki", "command": ["python", "server.py"]}],
    })
    assert tool_problems(g, ["calculator", "python", "search"]) == [
        "node 'a': unknown tool 'calculater'. Did you mean: calculator?",
        "node 'a': tool 'wikki.search' names MCP server 'wikki', which is not declared. Did you mean: wiki?",
    ]


def test_two_mcp_servers_with_one_name_are_a_problem(pool):
    from rolegraph.graphs.io import spec_from_data

    g = spec_from_data({
        "name": "t", "nodes": [{"id": "a", "role": "solver", "model": M1}],
        "mcp_servers": [{"name": "c", "command": ["x"]}, {"name": "c", "url": "http://127.0.0.1:1/mcp"}],
    })
    assert validate_graph(g, pool) == ["mcp_servers: name 'c' is used 2 times"]


def test_empty_id_is_named_by_position(pool):
    assert validate_graph(spec([(" ", "solver", M1)]), pool)[0] == "node 1: empty id"


def test_check_graph_raises_with_source_or_returns_the_spec(pool):
    good = load_graph(FIXTURES / "valid_vote3.yaml")
    assert check_graph(good, pool) is good
    with pytest.raises(GraphError) as info:
        check_graph(load_graph(FIXTURES / "cycle.yaml"), pool, source="cycle.yaml")
    assert info.value.source == "cycle.yaml"
    assert str(info.value).startswith("cycle.yaml: cycle: a -> b -> c -> a")


@pytest.mark.parametrize("node_id, shown", [("s[1]", "'[', ']'"), ("s@1", "'@'"), ("x]", "']'"), ("a@b[2]", "'[', ']', '@'")])
def test_ids_that_look_like_copies_or_rounds_are_refused(node_id, shown, pool):
    """A user's `s[1]` beside a fanned-out `s` (or `s@1` beside a looped `s`) would be replaced by the copy."""
    g = GraphSpec.model_validate({
        "nodes": [{"id": "p", "role": "planner", "model": M1}, {"id": "s", "role": "searcher", "model": M1},
                  {"id": node_id, "role": "solver", "model": M1}, {"id": "o", "role": "fuser", "model": M1}],
        "edges": [["p", "s"], ["s", "o"], [node_id, "o"]],
        "fanout": [{"from": "p", "nodes": ["s"], "max_fanout": 3}]})
    problems = validate_graph(g, pool)
    assert problems == [f"node '{node_id}': id contains {shown}, reserved for the ids the runtime gives fan-out "
                        "copies (s[1]) and loop rounds (s@1); rename the node"]


def test_the_search_spaces_generated_ids_are_not_reserved(pool):
    from rolegraph.optimize.space import OUTPUT_ID, slot_id

    g = spec([(slot_id(0), "solver", M1), (slot_id(11), "solver", M1), (OUTPUT_ID, "fuser", M1)],
             edges=[(slot_id(0), OUTPUT_ID), (slot_id(11), OUTPUT_ID)])
    assert validate_graph(g, pool) == []
