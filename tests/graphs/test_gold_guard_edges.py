"""The gold guard's refusal line tells the user which pair to fix: the nearest simulated ancestor of a real node
(the one whose output it reads most directly), the first leaking real node in the spec's order, and how many other
real nodes leak too (none mentioned when there are none)."""

from __future__ import annotations

from rolegraph.graphs.gold_guard import gold_leak_problem, gold_leaks
from rolegraph.graphs.spec import GraphSpec

SIM = "sim/llama-3.2-3b"
REAL = "capture/real"


def sim_named(model_id: str) -> bool:
    """The tests' own rule, not the pool's: a model is simulated when its id says so."""
    return model_id.startswith("sim/")


def graph(nodes: dict[str, tuple[str, str]], edges: list[tuple[str, str]]) -> GraphSpec:
    return GraphSpec(
        name="g", nodes=[{"id": n, "role": role, "model": model} for n, (role, model) in nodes.items()], edges=edges
    )


def test_the_nearest_sim_ancestor_is_named_when_a_farther_one_is_further_up_the_same_path():
    spec = graph(
        {"far": ("planner", SIM), "near": ("solver", SIM), "mid": ("verifier", REAL), "f": ("fuser", REAL)},
        [("far", "near"), ("near", "mid"), ("mid", "f")],  # f <- mid <- near <- far: near is 2 arcs back, far 3
    )
    assert gold_leaks(spec, sim_named) == [("near", "mid"), ("near", "f")]


def test_the_line_names_the_first_leaking_real_node_in_spec_order_and_counts_the_others():
    spec = graph(
        {"s": ("solver", SIM), "a": ("verifier", REAL), "b": ("critic", REAL), "c": ("fuser", REAL)},
        [("s", "a"), ("s", "b"), ("s", "c")],
    )
    line = gold_leak_problem(spec, sim_named)
    assert line is not None
    assert line.startswith("real node 'a' ")
    assert "(2 more real node(s) read a simulated one)" in line


def test_a_single_leak_mentions_no_others():
    line = gold_leak_problem(graph({"s": ("solver", SIM), "f": ("fuser", REAL)}, [("s", "f")]), sim_named)
    assert line is not None and "more real node" not in line
