"""Graph identity up to renaming (graphs/isomorphism.py) reads node params by value: the same params written in
another key order are the same node, so a renamed copy is the same structure whatever order its params keys come
in; a different value is another structure."""
from __future__ import annotations

from rolegraph.graphs.isomorphism import Shape, StructureIndex, isomorphic, structure_key
from rolegraph.graphs.spec import GraphSpec, NodeSpec

M1, M8 = "sim/llama-3.2-1b", "sim/llama-3.1-8b"


def vote(ids: tuple[str, str, str], params: dict) -> GraphSpec:
    a, b, out = ids
    nodes = [
        NodeSpec(id=a, role="solver", model=M1, params=params),
        NodeSpec(id=b, role="solver", model=M8),
        NodeSpec(id=out, role="fuser", model=M8),
    ]
    return GraphSpec(name="g", nodes=nodes, edges=[(a, out), (b, out)])


def test_params_in_another_key_order_are_the_same_structure():
    first = vote(("a", "b", "f"), {"temperature": 0.3, "max_tokens": 256})
    copy = vote(("x", "y", "z"), {"max_tokens": 256, "temperature": 0.3})
    assert isomorphic(first, copy)
    assert structure_key(first) == structure_key(copy)
    assert Shape(first) == Shape(copy)
    index = StructureIndex([first])
    assert index.is_new(copy) is False and len(index) == 1


def test_a_different_param_value_is_another_structure():
    first = vote(("a", "b", "f"), {"temperature": 0.3, "max_tokens": 256})
    other = vote(("x", "y", "z"), {"max_tokens": 256, "temperature": 0.4})
    assert not isomorphic(first, other) and Shape(first) != Shape(other)
    assert StructureIndex([first]).is_new(other) is True
