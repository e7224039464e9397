"""Graph identity up to renaming: isomorphic copies share a key and a canonical hash; others do not."""
from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from rolegraph.graphs.io import graph_hash
from rolegraph.graphs.isomorphism import StructureIndex, isomorphic, structure_key
from rolegraph.graphs.spec import GraphSpec, NodeSpec

MODELS = ("sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b")


def _graph(workers: list[tuple[str, str]], edges: list[tuple[int, int]], out_model: str = MODELS[1],
           ids: list[str] | None = None, params: dict | None = None) -> GraphSpec:
    """Workers w0.. (renamed by `ids`) all feed `out`, plus worker-to-worker `edges` by position."""
    ids = ids or [f"w{i}" for i in range(len(workers))]
    nodes = [NodeSpec(id=ids[i], role=role, model=model, params=params or {})
             for i, (role, model) in enumerate(workers)]
    nodes.append(NodeSpec(id="out", role="fuser", model=out_model))
    sinks = {a for a, _ in edges}
    all_edges = [(ids[a], ids[b]) for a, b in edges] + [(ids[i], "out") for i in range(len(workers)) if i not in sinks]
    return GraphSpec(name="g", nodes=nodes, edges=all_edges)


def _renamed(spec: GraphSpec, rng: random.Random) -> GraphSpec:
    """The same graph with shuffled node ids, node order and edge order."""
    ids = [n.id for n in spec.nodes]
    new = ids[:]
    rng.shuffle(new)
    rename = dict(zip(ids, (f"n_{x}" for x in new)))
    nodes = [n.model_copy(update={"id": rename[n.id]}) for n in spec.nodes]
    rng.shuffle(nodes)
    edges = [(rename[a], rename[b]) for a, b in spec.edges]
    rng.shuffle(edges)
    return GraphSpec(name="renamed", nodes=nodes, edges=edges)


def test_slot_permutations_share_a_key_but_not_a_hash():
    a = _graph([("solver", MODELS[0]), ("solver", MODELS[2]), ("verifier", MODELS[1])], [])
    b = _graph([("verifier", MODELS[1]), ("solver", MODELS[2]), ("solver", MODELS[0])], [])
    assert graph_hash(a) != graph_hash(b)
    assert structure_key(a) == structure_key(b)
    assert isomorphic(a, b)


def test_a_different_model_role_edge_param_or_output_is_a_different_structure():
    base = _graph([("solver", MODELS[0]), ("solver", MODELS[2])], [])
    others = [
        _graph([("solver", MODELS[1]), ("solver", MODELS[2])], []),
        _graph([("verifier", MODELS[0]), ("solver", MODELS[2])], []),
        _graph([("solver", MODELS[0]), ("solver", MODELS[2])], [(0, 1)]),
        _graph([("solver", MODELS[0]), ("solver", MODELS[2])], [], params={"temperature": 0.9}),
        _graph([("solver", MODELS[0]), ("solver", MODELS[2])], [], out_model=MODELS[2]),
    ]
    for other in others:
        assert not isomorphic(base, other)
        assert structure_key(base) != structure_key(other)


def test_edge_direction_matters():
    forward = _graph([("solver", MODELS[0]), ("solver", MODELS[2])], [(0, 1)])
    backward = _graph([("solver", MODELS[0]), ("solver", MODELS[2])], [(1, 0)])
    assert not isomorphic(forward, backward)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(0, 2**16))
def test_any_renaming_is_the_same_structure(width: int, seed: int):
    rng = random.Random(seed)
    workers = [(rng.choice(("solver", "verifier")), rng.choice(MODELS)) for _ in range(width)]
    edges = [(a, b) for a in range(width) for b in range(a + 1, width) if rng.random() < 0.4]
    spec = _graph(workers, edges)
    copy = _renamed(spec, rng)
    assert isomorphic(spec, copy) and structure_key(spec) == structure_key(copy)


def test_index_maps_copies_to_the_first_graph_seen():
    first = _graph([("solver", MODELS[0]), ("verifier", MODELS[2])], [(0, 1)])
    copy = _renamed(first, random.Random(3))
    other = _graph([("solver", MODELS[0]), ("verifier", MODELS[2])], [])
    index = StructureIndex()
    assert index.canonical(first) == graph_hash(first)
    assert index.canonical(copy) == graph_hash(first) != graph_hash(copy)
    assert index.canonical(other) == graph_hash(other)
    assert len(index) == 2
    assert index.is_new(_renamed(other, random.Random(5))) is False
    assert index.find(_graph([("solver", MODELS[1])], [])) is None
    rebuilt = StructureIndex([first, other])  # rebuilt from stored graphs: the same canonical hashes
    assert rebuilt.canonical(copy) == graph_hash(first)


def test_shapes_are_exact_keys_where_the_bucket_hash_collides():
    from rolegraph.graphs.isomorphism import Shape

    from .wl_twins import wl_twins

    a, b = wl_twins()
    assert structure_key(a) == structure_key(b) and not isomorphic(a, b)  # the hash alone would merge them
    assert Shape(a) != Shape(b) and len({Shape(a), Shape(b)}) == 2
    copy = _renamed(a, random.Random(3))
    assert Shape(copy) == Shape(a) and {Shape(a): 1}[Shape(copy)] == 1
    index = StructureIndex([a])
    assert index.find(b) is None and index.canonical(copy) == graph_hash(a)
