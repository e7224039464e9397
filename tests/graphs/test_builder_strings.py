"""The builder refuses a bare str where a list of ids is expected (it was iterated as characters)."""
from __future__ import annotations

import pytest

from rolegraph.graphs.builder import Graph

M = "sim/llama-3.2-3b"


def three() -> Graph:
    return Graph("g").node("solver1", "solver", M).node("solver2", "solver", M).node("f", "fuser", M)


@pytest.mark.parametrize("call", [
    lambda g: g.fan_in("solver1", "f"),
    lambda g: g.fan_out("f", "solver1"),
    lambda g: g.build(roles="solver"),
])
def test_a_bare_string_is_refused_in_one_line(call):
    with pytest.raises(TypeError) as info:
        call(three())
    message = str(info.value)
    assert "must be a list of ids" in message and "\n" not in message


def test_chain_takes_ids_or_one_list_of_them():
    by_args = three().chain("solver1", "solver2", "f").spec().edges
    by_list = three().chain(["solver1", "solver2", "f"]).spec().edges
    assert by_args == by_list and len(by_list) == 2


def test_lists_still_work():
    spec = three().fan_in(["solver1", "solver2"], "f").build(roles=["solver", "fuser"])
    assert len(spec.edges) == 2
