"""`run --json`'s per-node fields, from a run built by hand: a node's cache hits are its own (not its calls), a failed
node says its error, a copy or round says what it runs, and a run in which some node got a reply keeps its label even
when another node made no call (it failed first, or was never reached)."""
from rolegraph.cli.run_output import run_json
from rolegraph.graphs.result import NodeTrace, RunResult
from rolegraph.models.provenance import SIMULATED


def result() -> RunResult:
    nodes = [
        NodeTrace(id="a[1]", role="solver", model="sim/x", answer="7", calls=3, cached_calls=1, simulated=True,
                  instance_of="a", copy_index=1),
        NodeTrace(id="b", role="fuser", model="sim/x", error="NodeFailedError: boom"),  # no call: simulated None
    ]
    return RunResult(nodes=nodes, simulated=True, simulation=SIMULATED, error="node 'b' failed")


def test_each_node_says_its_own_cache_hits_error_and_instance():
    out = run_json(result())
    a, b = out["nodes"]
    assert a["cached_calls"] == 1
    assert (a["instance_of"], a["copy"], a["round"]) == ("a", 1, None)
    assert "error" not in a and b["error"] == "NodeFailedError: boom"
    assert (out["calls"], out["cached_calls"]) == (3, 1)


def test_a_run_with_one_reply_keeps_its_label_beside_a_node_that_made_no_call():
    out = run_json(result())
    assert (out["simulation"], out["simulated"]) == (SIMULATED, True)
