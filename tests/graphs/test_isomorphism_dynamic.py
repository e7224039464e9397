"""Graph identity counts loops and fan-outs: a looped graph and the same graph without its loop (or with fewer
rounds), and a fan-out graph and its static twin, are different structures, while renaming node ids still gives the
same one (found by mutation testing: identity looked at nodes and edges only, so their evidence pooled)."""
from __future__ import annotations

from rolegraph.graphs.io import spec_from_data
from rolegraph.graphs.isomorphism import Shape, StructureIndex, _labelled, isomorphic

M1, M3 = "sim/llama-3.2-1b", "sim/llama-3.2-3b"


def _loop(s: str, v: str, rounds: int | None) -> dict:
    data = {"nodes": [{"id": s, "role": "solver", "model": M1}, {"id": v, "role": "verifier", "model": M1}],
            "edges": [[s, v]]}
    return data | ({"loops": [{"from": v, "to": s, "max_rounds": rounds}]} if rounds else {})


def _fan(p: str, q: str, a: str, fan: int | None) -> dict:
    data = {"nodes": [{"id": p, "role": "planner", "model": M3}, {"id": q, "role": "searcher", "model": M1},
                      {"id": a, "role": "solver", "model": M3}], "edges": [[p, q], [q, a]], "output": a}
    return data | ({"fanout": [{"from": p, "nodes": [q], "max_fanout": fan}]} if fan else {})


def test_a_loop_is_part_of_a_graphs_identity():
    looped, plain, fewer = (spec_from_data(_loop("s", "v", r)) for r in (3, None, 2))
    renamed = spec_from_data(_loop("x", "y", 3))
    assert not isomorphic(looped, plain) and Shape(looped) != Shape(plain)
    assert not isomorphic(looped, fewer)
    assert isomorphic(looped, renamed) and Shape(looped) == Shape(renamed)
    index = StructureIndex()
    index.canonical(plain)
    index.canonical(looped)
    assert len(index) == 2


def test_a_fanout_is_part_of_a_graphs_identity():
    fanned, static, wider = (spec_from_data(_fan("p", "q", "a", f)) for f in (4, None, 6))
    renamed = spec_from_data(_fan("plan", "search", "answer", 4))
    assert not isomorphic(fanned, static) and not isomorphic(fanned, wider)
    assert isomorphic(fanned, renamed) and Shape(fanned) == Shape(renamed)


def test_a_static_graph_gets_no_extra_nodes():
    static = spec_from_data(_fan("p", "q", "a", None))
    assert sorted(_labelled(static).nodes) == ["a", "p", "q"]  # its key is what it was before loops counted
