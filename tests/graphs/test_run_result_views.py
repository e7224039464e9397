"""What a `RunResult` says of its nodes: which replies were cut (none when no call was cut), and per pool model what
its replies said answered, merged over the nodes that used it (a field any reply gave is kept; simulated if any
reply was)."""
from rolegraph.graphs.result import NodeTrace, RunResult
from rolegraph.models.provenance import ServedBy


def test_only_nodes_with_a_cut_reply_count_as_truncated():
    nodes = [NodeTrace(id="a", role="solver", model="m", calls=2, truncated_calls=0),
             NodeTrace(id="b", role="solver", model="m", calls=3, truncated_calls=1)]
    assert not nodes[0].truncated and nodes[1].truncated
    assert RunResult(nodes=nodes).truncated_nodes == ["b"]


def test_served_by_merges_what_every_reply_of_a_model_said():
    traces = [
        NodeTrace(id="a", role="solver", model="m", simulated=False, served_model="llama.gguf"),
        NodeTrace(id="b", role="solver", model="m", simulated=True, sim_fingerprint="f00d"),
        NodeTrace(id="c", role="solver", model="m"),  # made no call: says nothing
        NodeTrace(id="d", role="solver", model="n", simulated=False),
    ]
    assert RunResult.served_by(traces) == {
        "m": ServedBy(served_model="llama.gguf", simulated=True, sim_fingerprint="f00d"),
        "n": ServedBy(served_model=None, simulated=False, sim_fingerprint=None),
    }
