"""`request_overflowed`'s rule (docs/tutorials/serve.md, "When a run fails"), case by case on a hand-built failed
run: the client's 400 only when the failed node's model refused the prompt as too long for its context AND that
prompt held nothing but the node's role and the request (it read no node's output, it is no fan-out copy, and the
refused call was its first). Every other overflow is the graph's, a 502 after the upstream calls were paid.
Also `run_details`' `calls` / `cached_calls`: the run's totals over its nodes, and each node's own."""

from __future__ import annotations

from rolegraph.errors import NodeFailedError
from rolegraph.graphs.result import NodeTrace, RunResult
from rolegraph.models.openai_errors import CONTEXT_CAUSE, ModelCallError
from rolegraph.serve.answerer import request_overflowed, run_details

TOO_LONG = "This model's maximum context length is 3000 tokens"


def _failed(node_id: str, traces: list[NodeTrace], cause: BaseException | None) -> NodeFailedError:
    exc = NodeFailedError(f"node '{node_id}' failed", node_id, RunResult(nodes=traces))
    exc.__cause__ = cause
    return exc


def _overflow() -> ModelCallError:
    return ModelCallError(TOO_LONG, status=400, cause=CONTEXT_CAUSE)


def _trace(trace_id: str, **kw) -> NodeTrace:
    return NodeTrace(id=trace_id, role="solver", model="m", error=kw.pop("error", "too long"), **kw)


def test_an_entry_nodes_first_call_refused_as_too_long_is_the_request():
    assert request_overflowed(_failed("answer", [_trace("answer")], _overflow()))


def test_another_failure_of_that_call_is_not_the_request():
    other = ModelCallError("bad gateway", status=502, cause="error")
    assert not request_overflowed(_failed("answer", [_trace("answer")], other))
    assert not request_overflowed(_failed("answer", [_trace("answer")], RuntimeError(TOO_LONG)))
    assert not request_overflowed(_failed("answer", [_trace("answer")], None))


def test_a_node_that_read_another_nodes_output_overflowed_by_the_graph():
    traces = [_trace("solve", error=None, calls=1), _trace("check", inputs=["solve"])]
    assert not request_overflowed(_failed("check", traces, _overflow()))


def test_the_first_round_of_a_loop_entry_node_is_the_request():
    """A loop round's trace is `solve@1`, the failed graph node `solve`: its round 1 read only the request."""
    traces = [_trace("solve@1", instance_of="solve", round=1)]
    assert request_overflowed(_failed("solve", traces, _overflow()))


def test_a_later_round_that_read_the_loops_feedback_is_the_graphs():
    traces = [
        _trace("solve@1", instance_of="solve", round=1, error=None, calls=1),
        _trace("verify@1", instance_of="verify", round=1, error=None, calls=1, inputs=["solve@1"]),
        _trace("solve@2", instance_of="solve", round=2, inputs=["verify@1"]),
    ]
    assert not request_overflowed(_failed("solve", traces, _overflow()))


def test_a_call_refused_after_tool_results_is_the_graphs():
    """The node's first call went through (calls 1): its next prompt grew by the tool's results."""
    assert not request_overflowed(_failed("search", [_trace("search", calls=1)], _overflow()))


def test_a_fan_out_copy_answers_a_sub_question_so_its_overflow_is_the_graphs():
    traces = [_trace("solve[1]", instance_of="solve", copy_index=1)]
    assert not request_overflowed(_failed("solve", traces, _overflow()))


def test_nodes_the_failure_cancelled_do_not_decide():
    """A sibling cancelled by the failure ("cancelled") that had read other outputs does not make it the graph's."""
    traces = [
        _trace("answer"),
        _trace("answer[2]", instance_of="answer", copy_index=2, error="cancelled", inputs=["x"]),
    ]
    assert request_overflowed(_failed("answer", traces, _overflow()))


def test_a_round_of_the_node_that_finished_does_not_decide():
    """Only the failed node's failed traces count: its round 1 finished (a call made, no error); round 2, refused at
    its first call, read no other node's output (a loop whose feedback it does not see), so the request alone
    overflowed it."""
    traces = [
        _trace("solve@1", instance_of="solve", round=1, error=None, calls=1),
        _trace("solve@2", instance_of="solve", round=2),
    ]
    assert request_overflowed(_failed("solve", traces, _overflow()))


def test_with_no_trace_of_the_failed_node_it_is_not_the_requests_fault():
    assert not request_overflowed(_failed("answer", [], _overflow()))
    exc = NodeFailedError("node 'answer' failed", "answer", None)
    exc.__cause__ = _overflow()
    assert not request_overflowed(exc)


def test_run_details_counts_calls_and_cached_calls_over_the_nodes():
    result = RunResult(
        output_node="b",
        nodes=[
            NodeTrace(id="a", role="solver", model="m", calls=3, cached_calls=1),
            NodeTrace(id="b", role="verifier", model="m", calls=2, cached_calls=2),
        ],
    )
    details = run_details(result)
    assert (details["calls"], details["cached_calls"]) == (5, 3)
    assert [(n["id"], n["cached_calls"]) for n in details["nodes"]] == [("a", 1), ("b", 2)]
