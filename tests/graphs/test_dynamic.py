"""Fan-out and loop groups as structure: validation (every loop bounded, one line per problem) and the
worst-case graph that FLOPs / dollar estimates read."""
import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.analysis import QA_PROFILE, estimate_cost, flops_units, summary
from rolegraph.graphs.dynamic import dynamics, worst_case
from rolegraph.graphs.io import dumps_yaml, graph_hash, load_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.graphs.validate import validate_graph
from rolegraph.models.pool import ModelPool

S3, S8 = "sim/llama-3.2-3b", "sim/llama-3.1-8b"


def spec(**extra) -> GraphSpec:
    base = {
        "nodes": [{"id": "plan", "role": "planner", "model": S8}, {"id": "search", "role": "searcher", "model": S3},
                  {"id": "solve", "role": "solver", "model": S8}, {"id": "verify", "role": "verifier", "model": S8}],
        "edges": [["plan", "search"], ["search", "solve"], ["solve", "verify"]],
    }
    return GraphSpec.model_validate(base | extra)


FAN = {"fanout": [{"from": "plan", "nodes": ["search"], "max_fanout": 4}]}
LOOP = {"loops": [{"from": "verify", "to": "solve", "max_rounds": 2}]}


@pytest.fixture(scope="module")
def pool():
    return ModelPool.builtin()


def test_valid_dynamic_graph_and_its_groups(pool):
    g = spec(**FAN, **LOOP)
    assert validate_graph(g, pool) == []
    dyn = dynamics(g)
    assert [f.nodes for f in dyn.fanouts] == [("search",)]
    assert [(lp.nodes, lp.back, lp.max_rounds) for lp in dyn.loops] == [(("solve", "verify"), (("verify", "solve"),), 2)]


def test_worst_case_unrolls_loops_and_copies_fanout(pool):
    g = spec(**FAN, **LOOP)
    w = worst_case(g)
    assert {n.id for n in w.nodes} == {"plan", *(f"search[{i}]" for i in range(1, 5)), "solve@1", "verify@1",
                                       "solve@2", "verify@2"}
    assert ("verify@1", "solve@2") in w.edges and ("search[3]", "solve@2") in w.edges
    assert w.output_id() == "verify@2"
    static = spec()
    # estimates count the worst case: more FLOPs and tokens than the static graph, and a loop of 3 more than of 2
    assert flops_units(g, pool, QA_PROFILE) > flops_units(static, pool, QA_PROFILE)
    three = spec(**FAN, loops=[{"from": "verify", "to": "solve", "max_rounds": 3}])
    assert estimate_cost(three, pool, QA_PROFILE)["tokens"] > estimate_cost(g, pool, QA_PROFILE)["tokens"]
    info = summary(g, pool, QA_PROFILE)
    assert info.worst_case_nodes == 9 and "at most 2 rounds" in info.line() and info.depth == 6


def test_sees_all_reads_every_earlier_round():
    g = spec(loops=[{"from": "verify", "to": "solve", "max_rounds": 3, "sees": "all"}])
    w = worst_case(g)
    assert {("verify@1", "solve@3"), ("verify@2", "solve@3")} <= set(w.edges)
    last = worst_case(spec(loops=[{"from": "verify", "to": "solve", "max_rounds": 3}]))
    assert ("verify@1", "solve@3") not in last.edges


@pytest.mark.parametrize("extra, expected", [
    ({"edges": [["solve", "verify"], ["verify", "solve"]]}, "cycle: solve -> verify -> solve (unbounded"),
    ({"loops": [{"from": "verify", "to": "solve", "max_rounds": 2}, {"from": "verify", "to": "search", "max_rounds": 3}]},
     "must agree on max_rounds"),
    ({"loops": [{"from": "verify", "to": "nope", "max_rounds": 2}]}, "loop verify -> nope: unknown node 'nope'"),
    ({"loops": [{"from": "solve", "to": "verify", "max_rounds": 2}]}, "also a plain edge"),
    ({"fanout": [{"from": "solve", "nodes": ["search"], "max_fanout": 2}]}, "no copied node reads 'solve'"),
    ({"fanout": [{"from": "plan", "nodes": ["search", "verify"], "max_fanout": 2}]}, "lies between copied nodes"),
    ({"fanout": [{"from": "plan", "nodes": ["search"], "max_fanout": 2}],
      "loops": [{"from": "solve", "to": "search", "max_rounds": 2}]}, "loops and fan-out cannot nest"),
])
def test_each_dynamic_problem_has_one_line(extra, expected, pool):
    problems = validate_graph(spec(**extra), pool)
    assert any(expected in p for p in problems), problems
    assert all("\n" not in p for p in problems)


@pytest.mark.parametrize("loop, expected", [
    ("{from: verify, to: solve}", "loop 1 (verify -> solve): missing field 'max_rounds' (every loop needs a bound)"),
    ("{from: verify, to: solve, max_rounds: 0}", "loop 1 (verify -> solve): field 'max_rounds'"),
    ("{from: verify, to: solve, max_rounds: 1000}", "less than or equal to 20"),
    ("{from: verify, to: solve, max_rounds: 2, until: forever}", "field 'until'"),
])
def test_unbounded_or_bad_loops_in_a_file_are_refused_in_one_line(tmp_path, loop, expected):
    path = tmp_path / "g.yaml"
    path.write_text(dumps_yaml(spec()) + f"loops:\n  - {loop}\n")
    with pytest.raises(GraphError) as info:
        load_graph(path)
    assert expected in str(info.value) and len(info.value.problems) == 1


def test_file_round_trip_keeps_groups_and_hash(tmp_path):
    g = spec(**FAN, **LOOP)
    path = tmp_path / "g.yaml"
    path.write_text(dumps_yaml(g))
    again = load_graph(path)
    assert again == g and graph_hash(again) == graph_hash(g) != graph_hash(spec())
    assert "from: verify" in path.read_text() and "max_fanout: 4" in path.read_text()
