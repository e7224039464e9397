"""GraphSpec <-> networkx DiGraph."""
from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.io import load_graph
from rolegraph.graphs.nx import from_networkx, to_networkx

EXAMPLES = Path(__file__).parents[2] / "examples" / "graphs"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_round_trip(path):
    spec = load_graph(path)
    g = to_networkx(spec)
    assert list(g.nodes) == spec.node_ids and sorted(g.edges) == sorted(spec.edges)
    assert g.graph["name"] == spec.name and g.graph["output"] == spec.output
    assert from_networkx(g) == spec


def test_node_attributes_and_params_are_copies():
    spec = load_graph(EXAMPLES / "vote5.yaml")
    g = to_networkx(spec)
    assert g.nodes["fuse"] == {"role": "fuser", "model": "sim/llama-3.1-8b", "params": {"temperature": 0.2}}
    g.nodes["fuse"]["params"]["temperature"] = 1.0
    assert spec.node("fuse").params == {"temperature": 0.2}


def test_from_a_plain_networkx_graph_with_integer_ids():
    g = nx.DiGraph()
    g.add_node(1, role="solver", model="sim/llama-3.2-1b")
    g.add_node(2, role="fuser", model="sim/llama-3.1-8b", params={"temperature": 0.1})
    g.add_edge(1, 2)
    spec = from_networkx(g, name="tiny")
    assert spec.name == "tiny" and spec.node_ids == ["1", "2"] and spec.edges == [("1", "2")]
    assert spec.output is None and spec.output_id() == "2"


def test_missing_attributes_name_the_nodes():
    g = nx.DiGraph()
    g.add_node("a", role="solver")
    g.add_node("b")
    with pytest.raises(GraphError) as info:
        from_networkx(g)
    assert info.value.problems == ["node 'a': missing attribute(s) model", "node 'b': missing attribute(s) role, model"]
