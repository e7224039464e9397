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
    ({"loops": [{"from": "search", "to": "verify", "max_rounds": 2}]},
     "loop search -> verify: 'verify' already follows 'search' through the edges; a loop edge goes back"),
    ({"loops": [{"from": "solve", "to": "solve", "max_rounds": 2}]}, "loop solve -> solve: self-loop"),
    ({"fanout": [{"from": "solve", "nodes": ["search"], "max_fanout": 2}]}, "no copied node reads 'solve'"),
    ({"fanout": [{"from": "plan", "nodes": ["search", "verify"], "max_fanout": 2}]}, "lies between copied nodes"),
    ({"fanout": [{"from": "plan", "nodes": ["search"], "max_fanout": 2, "over": "subquestions"}]},
     "fanout from 'plan': over 'subquestions' is not a list role 'planner' produces. Did you mean: sub_questions?"),
    ({"fanout": [{"from": "plan", "nodes": ["search"], "max_fanout": 2, "over": "plan"}]},
     "fanout from 'plan': over 'plan' is not a list role 'planner' produces. Known: sub_questions."),
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


def test_a_loop_between_two_sources_is_not_a_back_edge(pool):
    """s -> v, t -> v with loops v -> t (a back edge) and s -> t (s and t are both sources: nothing leads
    from t to s) was accepted and merged both into one group that re-ran s."""
    g = GraphSpec.model_validate({
        "nodes": [{"id": "s", "role": "solver", "model": S3}, {"id": "t", "role": "solver", "model": S3},
                  {"id": "v", "role": "fuser", "model": S8}],
        "edges": [["s", "v"], ["t", "v"]],
        "loops": [{"from": "v", "to": "t", "max_rounds": 3}, {"from": "s", "to": "t", "max_rounds": 3}]})
    assert validate_graph(g, pool) == [
        "loop s -> t: not a back edge (nothing leads from 't' to 's' through the edges or other loops, so 's' would "
        "re-run on the same inputs); a loop edge goes back from a later node to an earlier one"]
    g.loops.pop()
    assert validate_graph(g, pool) == [] and [lp.nodes for lp in dynamics(g).loops] == [("t", "v")]


def test_a_debate_is_two_loop_edges_that_lead_back_through_each_other(pool):
    """Two parallel solvers reading each other's previous round (examples/graphs/debate.yaml): neither follows
    the other through the plain edges, but each loop edge leads back through the other one. One of them alone
    would re-run its source on the same inputs."""
    def debate(*loops):
        return GraphSpec.model_validate({
            "nodes": [{"id": "a", "role": "solver", "model": S3}, {"id": "b", "role": "solver", "model": S3},
                      {"id": "j", "role": "fuser", "model": S8}],
            "edges": [["a", "j"], ["b", "j"]],
            "loops": [{"from": s, "to": d, "max_rounds": 3, "until": "agreement"} for s, d in loops]})

    assert validate_graph(debate(("a", "b"), ("b", "a")), pool) == []
    assert [lp.nodes for lp in dynamics(debate(("a", "b"), ("b", "a"))).loops] == [("a", "b")]
    (problem,) = validate_graph(debate(("a", "b")), pool)
    assert problem.startswith("loop a -> b: not a back edge (nothing leads from 'b' to 'a'")


def test_a_fanout_from_a_role_that_lists_nothing_is_refused(pool):
    g = GraphSpec.model_validate({
        "nodes": [{"id": "s", "role": "solver", "model": S3}, {"id": "search", "role": "searcher", "model": S3},
                  {"id": "o", "role": "fuser", "model": S8}],
        "edges": [["s", "search"], ["search", "o"]],
        "fanout": [{"from": "s", "nodes": ["search"], "max_fanout": 3}]})
    assert validate_graph(g, pool) == [
        "fanout from 's': role 'solver' produces no list to fan out over (over: sub_questions); fan out from a planner"]


def test_a_user_roles_fields_are_unknown_so_its_over_passes(pool):
    """A roles file's or Python role's parser is not visible to validation: its fan-out passes (the run notes
    when its output lists nothing; tests/graphs/test_fanout.py)."""
    g = spec(fanout=[{"from": "plan", "nodes": ["search"], "max_fanout": 2, "over": "steps"}])
    g.nodes[0].role = "outliner"
    assert validate_graph(g, pool, roles=["outliner", "searcher", "solver", "verifier"]) == []


def test_the_built_in_roles_lists():
    from rolegraph.graphs.validate import builtin_list_fields

    lists = builtin_list_fields()
    assert lists("planner") == ("sub_questions",) and lists("searcher") == ("evidence",)
    assert lists("solver") == lists("verifier") == lists("fuser") == () and lists("outliner") is None
