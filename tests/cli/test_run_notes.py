"""`rolegraph run`'s table output says what went wrong or was decided without the model: each failed tool call
(node, tool, one-line reason), a searcher that searched its question because its model wrote no query, why a
loop stopped and what a fan-out spawned; and a searcher sends its queries to a search tool it lists, never to
the python tool (a user probe's findings: the run used to look clean)."""
from __future__ import annotations

import json

from rolegraph.agents.agent import FALLBACK_NOTE
from tests.cli.test_graph_cmd import ECHO_ID, EXAMPLES, GSM_TINY, _graph_file, assert_user_error, cli, echo_pool

__all__ = ["echo_pool"]  # the loopback OpenAI-compatible echo server, a fixture used below

FAILING_CALLS = 'What is 1/0?\nCALL calculator {"expression": "1/0"}\nCALL python {"code": "print(1/0)"}'
"""The echo model repeats its user message, so these lines come back as its text-protocol tool calls."""


def _flat(text: str) -> str:
    return " ".join(text.split())  # rich may wrap a long note


def test_failed_tool_calls_are_notes_in_the_table_output(tmp_path, capsys, echo_pool):
    graph = _graph_file(tmp_path, [{"id": "s", "role": "solver", "model": ECHO_ID,
                                    "params": {"tools": ["calculator", "python"], "tool_protocol": "text"}}])
    args = ["run", graph, FAILING_CALLS, "--pool", echo_pool]
    code, out, err = cli(args, capsys)
    assert code == 0, err
    flat = _flat(out)
    assert "note: node s: tool calculator failed: division by zero" in flat
    assert "note: node s: tool python failed: exit code 1: ZeroDivisionError: division by zero" in flat
    notes = [line for line in out.splitlines() if line.startswith("note: node s: tool ")]
    assert len(notes) == 2  # one line per failed call, nothing for the tools that worked
    code, out, err = cli([*args, "--json"], capsys)
    calls = json.loads(out)["nodes"][0]["tool_calls"]
    assert sorted((c["tool"], c["ok"]) for c in calls) == [("calculator", False), ("python", False)]


def test_a_clean_run_prints_no_failure_note(tmp_path, capsys, echo_pool):
    graph = _graph_file(tmp_path, [{"id": "s", "role": "solver", "model": ECHO_ID,
                                    "params": {"tools": ["calculator"], "tool_protocol": "text"}}])
    code, out, err = cli(["run", graph, 'Add.\nCALL calculator {"expression": "2+2"}', "--pool", echo_pool], capsys)
    assert code == 0, err
    assert "failed" not in out and "note:" not in out


def test_a_searcher_that_searched_its_question_says_so(tmp_path, capsys, echo_pool):
    """The echo model writes no `Query:` line: the searcher searches the question, and the output says it."""
    graph = _graph_file(tmp_path, [{"id": "look", "role": "searcher", "model": ECHO_ID},
                                   {"id": "s", "role": "solver", "model": ECHO_ID}], [("look", "s")])
    args = ["run", graph, "Who discovered penicillin?", "--pool", echo_pool]
    code, out, err = cli(args, capsys)
    assert code == 0, err
    assert f"note: node look: {FALLBACK_NOTE}" in _flat(out)
    code, out, err = cli([*args, "--json"], capsys)
    assert json.loads(out)["nodes"][0]["tool_calls"][0]["note"] == FALLBACK_NOTE


def test_a_searcher_listing_python_first_searches_with_search(tmp_path, capsys, echo_pool):
    graph = _graph_file(tmp_path, [{"id": "look", "role": "searcher", "model": ECHO_ID,
                                    "params": {"tools": ["python", "search"]}}])
    code, out, err = cli(["run", graph, "Who discovered penicillin?", "--pool", echo_pool, "--json"], capsys)
    assert code == 0, err
    node = json.loads(out)["nodes"][0]
    assert [c["tool"] for c in node["tool_calls"]] == ["search"] and node["tool_calls"][0]["ok"]
    assert "(no results)" not in node["output"] and "Penicillin" in node["output"]


def test_a_searcher_with_no_search_tool_is_a_one_line_error(tmp_path, capsys, echo_pool):
    graph = _graph_file(tmp_path, [{"id": "look", "role": "searcher", "model": ECHO_ID,
                                    "params": {"tools": ["python"]}}])
    code, out, err = cli(["run", graph, "Who discovered penicillin?", "--pool", echo_pool], capsys)
    first = assert_user_error(code, out, err)
    assert len(err.strip().splitlines()) == 1 and "no search tool" in first and "python" in first


def test_loop_notes_are_printed_not_only_in_json(capsys):
    """examples/graphs/revise.yaml: "the run's notes say why the loop stopped" — in the table output too."""
    args = ["run", EXAMPLES / "revise.yaml", "--task", "gsm8k", "--data", GSM_TINY, "--item", "0"]
    code, out, err = cli([*args, "--json"], capsys)
    assert code == 0, err
    notes = json.loads(out)["notes"]
    assert notes and all(n.startswith("loop ") and "stopped:" in n for n in notes)
    code, out, err = cli(args, capsys)
    assert code == 0, err
    for note in notes:
        assert f"note: {note}" in _flat(out)


def test_fanout_notes_are_printed_not_only_in_json(capsys):
    args = ["run", EXAMPLES / "mindsearch.yaml", "--task", "gsm8k", "--data", GSM_TINY, "--item", "0"]
    code, out, err = cli([*args, "--json"], capsys)
    assert code == 0, err
    notes = json.loads(out)["notes"]
    assert notes and any(n.startswith("fanout ") for n in notes)
    code, out, err = cli(args, capsys)
    assert code == 0, err
    for note in notes:
        assert f"note: {note}" in _flat(out)
