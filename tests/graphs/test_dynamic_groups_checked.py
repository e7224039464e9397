"""How back edges form loop groups and what validation refuses of the groups: back edges whose bodies share a node
are one group (all their nodes, both edges), and must agree on max_rounds, until and sees; a fan-out cannot copy the
graph's output (its copies would be several answers)."""
from rolegraph.graphs.dynamic import dynamic_problems, dynamics
from rolegraph.graphs.spec import GraphSpec

S1 = "sim/llama-3.2-1b"


def chain(ids, **extra) -> GraphSpec:
    nodes = [{"id": i, "role": "solver", "model": S1} for i in ids]
    edges = [[a, b] for a, b in zip(ids, ids[1:])]
    return GraphSpec.model_validate({"nodes": nodes, "edges": edges, **extra})


def test_back_edges_over_overlapping_stretches_of_a_chain_are_one_group():
    # c -> a re-runs a, b, c; d -> b re-runs b, c, d: they share b and c, so they loop together
    spec = chain("abcd", loops=[{"from": "c", "to": "a", "max_rounds": 2}, {"from": "d", "to": "b", "max_rounds": 2}])
    assert dynamic_problems(spec) == []
    groups = dynamics(spec).loops
    assert len(groups) == 1
    assert groups[0].nodes == ("a", "b", "c", "d") and groups[0].back == (("c", "a"), ("d", "b"))


def test_back_edges_of_one_group_must_agree_on_sees():
    spec = GraphSpec.model_validate({
        "nodes": [{"id": "a", "role": "solver", "model": S1}, {"id": "b", "role": "solver", "model": S1},
                  {"id": "j", "role": "fuser", "model": S1}],
        "edges": [["a", "j"], ["b", "j"]],
        "loops": [{"from": "a", "to": "b", "max_rounds": 2, "sees": "last"},
                  {"from": "b", "to": "a", "max_rounds": 2, "sees": "all"}]})
    assert dynamic_problems(spec) == [
        "loop a -> b, b -> a: these back edges share nodes, so they must agree on max_rounds, until and sees"]


def test_a_fanout_cannot_copy_the_output():
    spec = GraphSpec.model_validate({
        "nodes": [{"id": "plan", "role": "planner", "model": S1}, {"id": "solve", "role": "solver", "model": S1}],
        "edges": [["plan", "solve"]],
        "fanout": [{"from": "plan", "nodes": ["solve"], "max_fanout": 3}]})
    assert dynamic_problems(spec) == [
        "fanout from 'plan': the output 'solve' cannot be copied (its copies would be several answers)"]


def fan(nodes: list[str]) -> GraphSpec:
    return GraphSpec.model_validate({
        "nodes": [{"id": "plan", "role": "planner", "model": S1}, {"id": "search", "role": "searcher", "model": S1},
                  {"id": "solve", "role": "solver", "model": S1}],
        "edges": [["plan", "search"], ["search", "solve"]],
        "fanout": [{"from": "plan", "nodes": nodes, "max_fanout": 3}]})


def test_a_fanout_that_lists_a_node_twice_or_copies_its_source_is_refused():
    assert dynamic_problems(fan(["search", "search"])) == ["fanout from 'plan': a node is listed twice in 'nodes'"]
    assert dynamic_problems(fan(["plan", "search"])) == [
        "fanout from 'plan': the source cannot be one of the copied nodes"]
