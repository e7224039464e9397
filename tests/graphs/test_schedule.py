import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.schedule import Topology, critical_path_s, schedule
from rolegraph.graphs.spec import GraphSpec


def spec(edges, ids="abcd"):
    return GraphSpec.model_validate({"nodes": [{"id": i, "role": "solver", "model": "m"} for i in ids],
                                     "edges": edges})


def test_node_starts_when_its_last_predecessor_ends():
    topo = Topology.of(spec([["a", "c"], ["b", "c"], ["c", "d"]]))
    times = schedule(topo, {"a": 1.0, "b": 3.0, "c": 0.5, "d": 2.0})
    assert times["c"] == (3.0, 3.5) and times["d"] == (3.5, 5.5)
    assert critical_path_s(topo, {"a": 1.0, "b": 3.0, "c": 0.5, "d": 2.0}) == 5.5


def test_unbalanced_chains_take_the_longer_chain_not_the_sum_of_stages():
    topo = Topology.of(spec([["a", "b"], ["c", "d"]]))
    assert critical_path_s(topo, {"a": 1.0, "b": 0.1, "c": 0.1, "d": 1.0}) == pytest.approx(1.1)


def test_topology_keeps_edge_order_and_rejects_cycles():
    topo = Topology.of(spec([["b", "d"], ["a", "d"], ["c", "d"]]))
    assert topo.preds["d"] == ("b", "a", "c") and topo.order[-1] == "d"
    with pytest.raises(GraphError, match="cycle"):
        Topology.of(spec([["a", "b"], ["b", "a"]]))
    with pytest.raises(GraphError, match="unknown node"):
        Topology.of(spec([["a", "z"]]))


def trace(node_id, latency, start, end):
    from rolegraph.graphs.result import NodeTrace

    return NodeTrace(id=node_id, role="solver", model="m", latency_s=latency, start_s=start, end_s=end)


def test_nodes_of_one_model_share_its_slots():
    from rolegraph.graphs.schedule import slotted_critical_path_s

    topo = Topology.of(spec([["a", "c"], ["b", "c"]], ids="abc"))
    latency = {"a": 1.0, "b": 2.0, "c": 0.5}
    one_model = {"a": "m", "b": "m", "c": "m"}
    assert slotted_critical_path_s(topo, latency, one_model, {"m": 2}) == pytest.approx(2.5)  # a, b side by side
    assert slotted_critical_path_s(topo, latency, one_model, {"m": 1}) == pytest.approx(3.5)  # one after the other
    two_models = {"a": "m", "b": "n", "c": "m"}
    assert slotted_critical_path_s(topo, latency, two_models, {"m": 1, "n": 1}) == pytest.approx(2.5)
    assert slotted_critical_path_s(topo, {"a": 1.0}, one_model, {"m": 1}) == 1.0  # b and c did not run


def test_a_run_alone_counts_calls_as_measured_not_as_waited_or_replayed():
    from rolegraph.graphs.schedule import alone_wall_s

    topo = Topology.of(spec([["a", "c"], ["b", "c"]], ids="abc"))
    models, slots = {"a": "m", "b": "n", "c": "m"}, {"m": 4, "n": 4}
    fresh = [trace("a", 1.0, 0.0, 1.0), trace("b", 2.0, 0.0, 2.0), trace("c", 0.5, 2.0, 2.5)]
    assert alone_wall_s(topo, fresh, 2.6, models, slots) == pytest.approx(2.6)  # 0.1 s of framework time kept
    # b answered from the cache in 0.01 s (first measured 2.0 s): the run is reported as it was made
    replayed = [trace("a", 1.0, 0.0, 1.0), trace("b", 2.0, 0.0, 0.01), trace("c", 0.5, 1.0, 1.5)]
    assert alone_wall_s(topo, replayed, 1.6, models, slots) == pytest.approx(2.6)
    # b waited 3 s for a slot held by other items' runs before its 2 s call: not part of this run's time
    waited = [trace("a", 1.0, 0.0, 1.0), trace("b", 2.0, 0.0, 5.0), trace("c", 0.5, 5.0, 5.5)]
    assert alone_wall_s(topo, waited, 5.6, models, slots) == pytest.approx(2.6)
