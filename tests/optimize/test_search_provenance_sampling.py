"""A search's result records the chosen graph's sampling parameters in its provenance, node by node, as `eval`
and `run` do (it was always `{}`)."""
from __future__ import annotations

from .helpers import run, tiny_config


def test_the_result_names_each_node_of_the_chosen_graph_with_its_sampling(pool, small_task, tmp_path):
    result = run(pool, tmp_path / "home", small_task, config=tiny_config(iterations=1))
    sampling = result.provenance.sampling
    nodes = {n.id: n for n in result.best_graph.nodes}
    assert set(sampling) == set(nodes)
    for node_id, node in nodes.items():
        assert sampling[node_id].model == node.model
        if "temperature" in node.params:
            assert sampling[node_id].temperature == node.params["temperature"]
