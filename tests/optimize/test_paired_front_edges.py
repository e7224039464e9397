"""What a search hands to routing, on menus worked by hand: the front of (pooled accuracy up, FLOPs down) with its
minimum of items per graph, the sub-votes inside a vote, and the fit items (validation first, then training,
never test)."""
from __future__ import annotations

from rolegraph.graphs.builder import Graph
from rolegraph.graphs.io import graph_hash
from rolegraph.items import Item
from rolegraph.optimize.paired import MIN_FRONT_ITEMS, fit_items, front_graphs, sub_votes
from rolegraph.optimize.trace import EvalRecord

SMALL, BIG = "sim/llama-3.2-1b", "sim/llama-3.1-8b"
BATCH = [f"q{i}" for i in range(16)]


def single(name: str):
    return Graph(name).node("a", "solver", SMALL, temperature=0.1 * len(name)).build()


def record(seq: int, spec, accuracy: float, flops: float, n: int = 16) -> EvalRecord:
    return EvalRecord(seq=seq, iteration=0, phase="search", source="sampled", graph_hash=graph_hash(spec),
                      graph_name=spec.name, objective=accuracy, accuracy=accuracy, latency_s=1.0, dollars=0.0,
                      flops_units=flops, n=n, items=BATCH[:n])


def front_names(rows, limit=6):
    graphs = {graph_hash(spec): spec.model_dump(mode="json") for spec, *_ in rows}
    records = [record(i, spec, *rest) for i, (spec, *rest) in enumerate(rows)]
    return [g.name for g in front_graphs(records, graphs, limit=limit)]


def test_front_keeps_graphs_no_other_beats_on_accuracy_and_flops_best_first():
    rows = [
        (single("a"), 0.50, 1.0),
        (single("bb"), 0.75, 4.0),
        (single("ccc"), 0.75, 5.0),  # as accurate as bb and dearer: off
        (single("dddd"), 0.875, 9.0),
        (single("eeeee"), 0.4375, 2.0),  # dearer than a and less accurate: off
        (single("ffffff"), 0.5, 1.0),  # a's twin: neither beats the other, both stay
        (single("ggggggg"), 0.625, 4.0),  # as dear as bb and less accurate: off
    ]
    names = front_names(rows)
    assert names[:2] == ["dddd", "bb"] and sorted(names[2:]) == ["a", "ffffff"]  # twins in hash order
    assert front_names(rows, limit=2) == ["dddd", "bb"]


def test_a_graph_enters_the_front_only_with_enough_items():
    rows = [(single("a"), 0.5, 1.0, MIN_FRONT_ITEMS), (single("bb"), 1.0, 1.0, MIN_FRONT_ITEMS - 1)]
    assert front_names(rows) == ["a"]


def vote(j: int):
    g = Graph("v").node("out", "fuser", BIG)
    for i in range(j):
        g = g.node(f"s{i}", "solver", SMALL).edge(f"s{i}", "out")
    return g.build()


def test_sub_votes_are_the_first_sample_alone_and_each_smaller_vote():
    names = [(s.name, sorted(n.id for n in s.nodes)) for s in sub_votes(vote(4))]
    assert names == [
        ("v-first1", ["s0"]),
        ("v-first2", ["out", "s0", "s1"]),
        ("v-first3", ["out", "s0", "s1", "s2"]),
    ]  # never the full vote of 4 again
    assert [s.name for s in sub_votes(vote(2))] == ["v-first1"]
    assert sub_votes(vote(1)) == []  # one sample is no vote


def _items(split: str, k: int) -> list[Item]:
    return [Item(id=f"{split}{i}", question="q", answer="1", family="math") for i in range(k)]


def test_fit_items_are_validation_then_training_never_test():
    splits = {"validation": _items("v", 3), "train": _items("t", 5), "test": _items("x", 9)}
    assert [it.id for it in fit_items(splits, 6)] == ["v0", "v1", "v2", "t0", "t1", "t2"]
    assert [it.id for it in fit_items(splits, 2)] == ["v0", "v1"]
    assert [it.id for it in fit_items(splits, 100)] == ["v0", "v1", "v2", "t0", "t1", "t2", "t3", "t4"]
    assert [it.id for it in fit_items({"test": _items("x", 4)}, 3)] == []
