"""A run's `notes` name each failed tool call (node, tool, one-line reason), in Python as in `rolegraph run`:
a graph author must see that a tool did not work without reading the traces; a clean run has no such note."""
from __future__ import annotations

from rolegraph.graphs.builder import Graph
from rolegraph.graphs.result import NodeTrace, ToolEvent
from rolegraph.graphs.router import RouterSpec, Stage
from rolegraph.graphs.router_runtime import run_spec_sync
from rolegraph.graphs.runtime import run_graph_sync
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from tests.cli.test_graph_cmd import ECHO_ID
from tests.cli.test_run_notes import FAILING_CALLS, echo_pool

__all__ = ["echo_pool"]  # the loopback OpenAI-compatible echo server: its reply repeats the question's CALL lines

TOOLS = {"tools": ["calculator", "python"], "tool_protocol": "text"}
CALCULATOR_FAILED = "tool calculator failed: division by zero"
PYTHON_FAILED = "tool python failed: exit code 1: ZeroDivisionError: division by zero"


def _hub(pool_file, tmp_path) -> tuple[ModelPool, ModelHub]:
    pool = ModelPool.load(pool_file)
    return pool, ModelHub(pool, Settings(home=tmp_path / "home", cache=False))


def test_a_failed_tool_call_is_a_note_of_the_python_result(tmp_path, echo_pool):
    pool, hub = _hub(echo_pool, tmp_path)
    spec = Graph("tools").node("s", "solver", ECHO_ID, **TOOLS).build(pool)
    result = run_graph_sync(spec, FAILING_CALLS, hub)
    assert [(e.tool, e.ok) for e in result.node("s").tools] == [("calculator", False), ("python", False)]
    assert result.notes == [f"node s: {CALCULATOR_FAILED}", f"node s: {PYTHON_FAILED}"]


def test_a_routers_notes_name_the_failed_call_by_its_stage_node(tmp_path, echo_pool):
    pool, hub = _hub(echo_pool, tmp_path)
    spec = Graph("tools").node("s", "solver", ECHO_ID, **TOOLS).build(pool)
    result = run_spec_sync(RouterSpec(name="one", stages=[Stage(graph=spec)]), FAILING_CALLS, hub)
    (node,) = result.nodes
    assert result.notes == [f"node {node.id}: {CALCULATOR_FAILED}", f"node {node.id}: {PYTHON_FAILED}"]


def test_a_clean_run_has_no_tool_note(tmp_path, echo_pool):
    pool, hub = _hub(echo_pool, tmp_path)
    spec = Graph("tools").node("s", "solver", ECHO_ID, **TOOLS).build(pool)
    result = run_graph_sync(spec, 'Add.\nCALL calculator {"expression": "2+2"}', hub)
    assert [(e.tool, e.ok) for e in result.node("s").tools] == [("calculator", True)]
    assert result.notes == []


def test_the_same_failure_twice_is_one_note_per_node():
    from rolegraph.graphs.result import failed_tool_notes

    bad = ToolEvent(tool="search", ok=False, summary="search: error: timed out\nafter 5 s")
    nodes = [NodeTrace(id="a", role="r", model="m", tools=[bad, bad, ToolEvent(tool="search")]),
             NodeTrace(id="b", role="r", model="m", tools=[bad])]
    assert failed_tool_notes(nodes) == ["node a: tool search failed: timed out after 5 s",
                                        "node b: tool search failed: timed out after 5 s"]
