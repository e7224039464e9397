"""Node params at their documented bounds: `temperature` a number in [0, 2] (both ends allowed), `max_tokens` a
positive integer; YAML's `true` is neither (a bool is not a number here, though Python counts it as 1). And a plain
cycle is one problem, one line: not also "no output" because the cycle leaves no node without a successor."""
from __future__ import annotations

import pytest

from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.graphs.validate import validate_graph

M1 = "sim/llama-3.2-1b"


def one_node(**params) -> GraphSpec:
    return GraphSpec(nodes=[NodeSpec(id="a", role="solver", model=M1, params=params)], edges=[])


@pytest.mark.parametrize("t", [0, 0.0, 1, 1.5, 2, 2.0])
def test_temperatures_in_0_to_2_are_accepted_ends_included(t):
    assert validate_graph(one_node(temperature=t), None) == []


@pytest.mark.parametrize("t", [-0.1, 2.01, 3, True, False, "1", None])
def test_temperatures_outside_0_to_2_or_not_numbers_are_refused(t):
    assert validate_graph(one_node(temperature=t), None) == [
        f"node 'a': params.temperature must be a number in [0, 2], got {t!r}"
    ]


@pytest.mark.parametrize("m", [True, False, 0, -5, 1.0, "64"])
def test_max_tokens_that_is_not_a_positive_integer_is_refused(m):
    assert validate_graph(one_node(max_tokens=m), None) == [
        f"node 'a': params.max_tokens must be a positive integer, got {m!r}"
    ]


@pytest.mark.parametrize("m", [1, 64, 4096])
def test_positive_integer_max_tokens_is_accepted(m):
    assert validate_graph(one_node(max_tokens=m), None) == []


def test_a_plain_cycle_is_reported_once_as_a_cycle():
    spec = GraphSpec(
        nodes=[NodeSpec(id=i, role="solver", model=M1) for i in ("a", "b")], edges=[("a", "b"), ("b", "a")]
    )
    problems = validate_graph(spec, None)
    assert len(problems) == 1 and problems[0].startswith("cycle: a -> b -> a")
