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


def test_replayed_delay_adds_back_what_cache_hits_saved_on_the_critical_path():
    from rolegraph.graphs.schedule import replayed_delay

    topo = Topology.of(spec([["a", "c"], ["b", "c"]], ids="abc"))
    fresh = [trace("a", 1.0, 0.0, 1.0), trace("b", 2.0, 0.0, 2.0), trace("c", 0.5, 2.0, 2.5)]
    assert replayed_delay(topo, fresh) == 0.0
    # b was answered from the cache in 0.01 s but first took 2.0 s; a (1.0 s) then ran alone
    replayed = [trace("a", 1.0, 0.0, 1.0), trace("b", 2.0, 0.0, 0.01), trace("c", 0.5, 1.0, 1.5)]
    assert replayed_delay(topo, replayed) == pytest.approx(2.5 - 1.5)
