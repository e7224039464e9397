import asyncio

import pytest

from rolegraph.agents.agent import run_agent
from rolegraph.agents.registry import RoleError, RoleRegistry
from rolegraph.agents.tooluse import MAX_SEARCH_QUERIES, MAX_TOOL_ROUNDS, TEXT_RESULTS_HEAD, tool_help
from rolegraph.transcript import Section, read_sections

from .conftest import ScriptedCaller, tool_call

REG = RoleRegistry.default()


def run(role, caller, *, kind="math", toolbox=None, tools=(), native=False, sections=(), question="Q?"):
    system = REG.system_prompt(role, kind, tool_help(toolbox, tools, native) if tools and toolbox and role != "searcher" else "")
    return asyncio.run(run_agent(REG.get(role), system, question, list(sections), caller, kind=kind,
                                 toolbox=toolbox, tools=tools, native=native))


def test_solver_reads_predecessors_and_answers():
    caller = ScriptedCaller([("Adding.\nFinal answer: 7", [])])
    res = run("solver", caller, sections=[Section(1, "a", "solver", "Final answer: 6")])
    assert res.output.answer == "7" and res.tool_uses == []
    system, user = caller.sent[0]
    assert system["content"].startswith("Role: solver.")
    assert [s.node for s in read_sections(user["content"])] == ["a"]


def test_searcher_runs_its_queries_and_outputs_evidence(toolbox):
    caller = ScriptedCaller([("Query: penicillin discovered\nQuery: insulin purified", [])])
    res = run("searcher", caller, toolbox=toolbox, tools=("search",), question="Who discovered penicillin?")
    out = res.output
    assert out.answer is None
    assert out.fields["queries"] == ["penicillin discovered", "insulin purified"]
    titles = [h["title"] for h in out.fields["evidence"]]
    assert titles[0] == "Penicillin" and "Insulin" in titles
    assert out.text.startswith("Evidence:\n[1] Penicillin (https://en.wikipedia.org/wiki/Penicillin)")
    assert [u.arguments["query"] for u in res.tool_uses] == out.fields["queries"]
    assert caller.tools_sent == [None]  # text mode: no schemas sent


def test_searcher_native_tool_calls_and_query_cap(toolbox):
    calls = [tool_call("search", {"query": f"penicillin {i}"}, f"c{i}") for i in range(5)]
    caller = ScriptedCaller([("", calls)])
    res = run("searcher", caller, toolbox=toolbox, tools=("search",), native=True)
    assert len(res.output.fields["queries"]) == MAX_SEARCH_QUERIES
    assert caller.tools_sent[0][0]["function"]["name"] == "search"


def test_searcher_without_queries_searches_the_question(toolbox):
    caller = ScriptedCaller([("I don't know what to search.", [])])
    res = run("searcher", caller, toolbox=toolbox, tools=("search",), question="Who discovered penicillin?\nmore")
    assert res.output.fields["queries"] == ["Who discovered penicillin?"]
    assert res.output.fields["evidence"]


def test_text_protocol_tool_round_feeds_results_back(toolbox):
    caller = ScriptedCaller([('Let me compute.\nCALL calculator {"expression": "17*23"}', []),
                             ("Final answer: 391", [])])
    res = run("solver", caller, toolbox=toolbox, tools=("calculator",))
    assert "CALL <tool name>" in caller.sent[0][0]["content"]  # the protocol is in the system prompt
    assert res.output.answer == "391"
    assert [(u.tool, u.ok) for u in res.tool_uses] == [("calculator", True)]
    follow_up = caller.sent[1][-1]["content"]
    assert follow_up.startswith(TEXT_RESULTS_HEAD) and "391" in follow_up


def test_native_tool_round_uses_tool_messages(toolbox):
    caller = ScriptedCaller([("", [tool_call("calculator", {"expression": "2**10"}, "x1")]),
                             ("Final answer: 1024", [])])
    res = run("solver", caller, toolbox=toolbox, tools=("calculator",), native=True)
    assert res.output.answer == "1024"
    second = caller.sent[1]
    assert second[-2]["role"] == "assistant" and second[-2]["tool_calls"][0]["id"] == "x1"
    assert second[-1] == {"role": "tool", "tool_call_id": "x1", "content": "1024"}


def test_tool_rounds_are_bounded_and_last_call_has_no_tools(toolbox):
    caller = ScriptedCaller([("", [tool_call("calculator", {"expression": "1+1"})])])
    res = run("solver", caller, toolbox=toolbox, tools=("calculator",), native=True)
    assert len(caller.sent) == MAX_TOOL_ROUNDS + 1
    assert caller.tools_sent[-1] is None and caller.tools_sent[0] is not None
    assert len(res.tool_uses) == MAX_TOOL_ROUNDS


def test_failed_tool_is_recorded_not_raised(toolbox):
    caller = ScriptedCaller([('CALL calculator {"expression": "import os"}', []), ("Final answer: 0", [])])
    res = run("solver", caller, toolbox=toolbox, tools=("calculator",))
    assert res.tool_uses[0].ok is False and res.output.answer == "0"


def test_tools_without_toolbox_is_a_clear_error():
    with pytest.raises(RoleError, match="needs tools"):
        run("solver", ScriptedCaller([("Final answer: 1", [])]), tools=("calculator",), toolbox=None)
