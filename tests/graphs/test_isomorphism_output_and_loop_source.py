"""Two graphs alike but for which node is the output, or for where a loop edge comes from, are two structures."""
from rolegraph.graphs.isomorphism import isomorphic
from rolegraph.graphs.spec import GraphSpec

S1, S3 = "sim/llama-3.2-1b", "sim/llama-3.2-3b"


def test_the_output_node_is_part_of_the_structure():
    def g(output: str) -> GraphSpec:
        return GraphSpec.model_validate({
            "nodes": [{"id": "p", "role": "solver", "model": S1}, {"id": "a", "role": "solver", "model": S1},
                      {"id": "b", "role": "solver", "model": S3}],
            "edges": [["p", "a"], ["p", "b"]], "output": output})

    assert isomorphic(g("a"), g("a")) and not isomorphic(g("a"), g("b"))


def test_where_a_loop_edge_comes_from_is_part_of_the_structure():
    def g(source: str) -> GraphSpec:
        return GraphSpec.model_validate({
            "nodes": [{"id": n, "role": "solver", "model": S1} for n in ("a", "b", "c")],
            "edges": [["a", "b"], ["b", "c"]],
            "loops": [{"from": source, "to": "a", "max_rounds": 2}]})

    assert isomorphic(g("c"), g("c")) and not isomorphic(g("c"), g("b"))
