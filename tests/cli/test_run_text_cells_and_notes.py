"""What `rolegraph run` prints under and in its table, for runs built by hand: a cut reply's cell is marked, a failed
node's cell shows its error, a world is named only beside a simulated label, a run that answered nothing still
gives its FLOPs figure when it has one, a note is one line, and a node's repeated tool note is printed once."""
from __future__ import annotations

from types import SimpleNamespace

from rolegraph.cli.run_output import CUT_MARK, print_run
from rolegraph.graphs.result import NodeTrace, RunResult, ToolEvent


def printed(res: RunResult, capsys) -> str:
    print_run(res, SimpleNamespace(name="g"), "item 1", None)
    return capsys.readouterr().out


def test_a_cut_reply_is_marked_and_a_failed_node_shows_its_error(capsys):
    nodes = [NodeTrace(id="a", role="solver", model="local/x", calls=1, truncated_calls=1, simulated=False,
                       answer="41"),
             NodeTrace(id="b", role="fuser", model="local/x", error="NodeFailedError: boom")]
    out = printed(RunResult(nodes=nodes, simulation="real", error="node 'b' failed"), capsys)
    assert f"{CUT_MARK}41" in out and "NodeFailedError: boom" in out


def test_a_world_is_named_only_beside_a_simulated_label(capsys):
    ok = NodeTrace(id="a", role="solver", model="local/x", calls=1, simulated=False, answer="9")
    out = printed(RunResult(nodes=[ok], simulation="real", answer="9", world=3), capsys)
    assert "world" not in out


def test_a_run_that_answered_nothing_keeps_a_flops_figure_it_has(capsys):
    failed = NodeTrace(id="a", role="solver", model="sim/x", error="ModelCallError: refused")
    out = printed(RunResult(nodes=[failed], simulation="real", flops_units=2.5, error="node 'a' failed"), capsys)
    assert "2.50 FLOPs units" in out


def test_notes_are_one_line_each_and_a_nodes_repeated_tool_note_is_printed_once(capsys):
    fell_back = "web search failed (timeout); fell back to local search"
    tools = [ToolEvent(tool="search", note=fell_back), ToolEvent(tool="search", note=fell_back)]
    ok = NodeTrace(id="s", role="searcher", model="local/x", calls=1, simulated=False, answer=None, tools=tools)
    res = RunResult(nodes=[ok], simulation="real", notes=["loop a -> b: 2 round(s)\n  of at most 2"])
    out = printed(res, capsys)
    assert "note: loop a -> b: 2 round(s) of at most 2\n" in out
    assert out.count(f"note: node s: {fell_back}") == 1
