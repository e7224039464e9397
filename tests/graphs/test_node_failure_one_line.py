"""A node that fails says so in one line: its id, role and model, and the first line of the error (a multi-line
error, such as a parser's traceback-like text, would otherwise spill into the run's one-line message and trace)."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.agents.registry import RoleRegistry
from rolegraph.errors import NodeFailedError
from rolegraph.graphs.runtime import run_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

S1 = "sim/llama-3.2-1b"


def broken_parser(text: str, kind: str = "auto"):
    raise ValueError("the reply has no table\nline 2 of the details\nline 3")


def test_a_failing_node_is_named_with_the_first_line_of_its_error(tmp_path):
    roles = RoleRegistry.default()
    roles.register("tabler", "Answer with a table.\n", broken_parser)
    graph = GraphSpec.model_validate({"name": "one", "nodes": [{"id": "t", "role": "tabler", "model": S1}]})
    hub = ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False))
    with pytest.raises(NodeFailedError) as failed:
        asyncio.run(run_graph(graph, Item(id="n1", question="What is 3 + 4?", gold="7", family="math"), hub,
                              roles=roles))
    assert str(failed.value) == f"node 't' (tabler on {S1}) failed: ValueError: the reply has no table"
    assert failed.value.partial.node("t").error == "ValueError: the reply has no table"
