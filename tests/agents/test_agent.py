import asyncio

import pytest

from rolegraph.agents.agent import run_agent
from rolegraph.agents.registry import RoleError, RoleRegistry
from rolegraph.agents.tooluse import MAX_SEARCH_QUERIES, MAX_TOOL_ROUNDS, TEXT_RESULTS_HEAD, tool_help
from rolegraph.tools.base import Tool, ToolResult
from rolegraph.tools.calculator import Calculator
from rolegraph.tools.local_search import LocalSearch, SearchTool
from rolegraph.tools.sandbox import PythonTool
from rolegraph.tools.toolbox import ToolBox
from rolegraph.transcript import Section, read_sections

from .conftest import CORPUS, ScriptedCaller, tool_call

REG = RoleRegistry.default()


def run(role, caller, *, kind="math", toolbox=None, tools=(), native=False, sections=(), question="Q?"):
    helped = tools and toolbox and role != "searcher"
    system = REG.system_prompt(role, kind, tool_help(toolbox, tools, native) if helped else "")
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


# --- which tool a searcher's queries go to; the fallback to the question is in the trace ------------------

class _Notes(Tool):
    """A tool that says nothing about searching and takes no `query` (as an MCP server's write tool)."""

    name = "notes.write"
    description = "write a note"
    parameters = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}

    async def _run(self, text: str) -> ToolResult:
        return ToolResult(ok=True, text="noted")


def _box(*tools: Tool) -> ToolBox:
    return ToolBox([*tools, SearchTool(LocalSearch.from_documents(CORPUS))])


def test_a_searcher_listing_python_first_still_searches_with_its_search_tool():
    """A user probe: `params: {tools: [python, search]}` sent the searcher's queries to python (the first listed
    tool), so the question ran as code and the searcher reported "(no results)"."""
    box = _box(PythonTool(allow_weak=True), Calculator())
    caller = ScriptedCaller([("Query: penicillin discovered", [])])
    res = run("searcher", caller, toolbox=box, tools=("python", "calculator", "search"))
    assert [u.tool for u in res.tool_uses] == ["search"]
    assert res.output.fields["evidence"][0]["title"] == "Penicillin" and "(no results)" not in res.output.text
    native = ScriptedCaller([("", [tool_call("search", {"query": "penicillin"})])])
    run("searcher", native, toolbox=box, tools=("python", "search"), native=True)
    assert [t["function"]["name"] for t in native.tools_sent[0]] == ["search"]  # only the search tool offered


def test_a_searcher_prefers_a_tool_taking_a_query_among_several():
    lookup = SearchTool(LocalSearch.from_documents(CORPUS))
    lookup.name = "docs.search"  # as an MCP server's tool is named
    box = ToolBox([PythonTool(allow_weak=True), _Notes(), lookup])
    res = run("searcher", ScriptedCaller([("Query: insulin", [])]), toolbox=box,
              tools=("python", "notes.write", "docs.search"))
    assert [u.tool for u in res.tool_uses] == ["docs.search"]
    alone = run("searcher", ScriptedCaller([("Query: insulin", [])]), toolbox=box, tools=("python", "notes.write"))
    assert [u.tool for u in alone.tool_uses] == ["notes.write"]  # it does not say it cannot search: kept


def test_a_searcher_with_no_search_tool_is_a_one_line_error_before_any_call():
    caller = ScriptedCaller([("Query: penicillin", [])])
    with pytest.raises(RoleError) as info:
        run("searcher", caller, toolbox=_box(PythonTool(allow_weak=True), Calculator()),
            tools=("python", "calculator"))
    message = str(info.value)
    assert "\n" not in message and "no search tool" in message and "python, calculator" in message
    assert "params.tools" in message and caller.sent == []  # no model call paid for


def test_the_fallback_to_the_question_is_a_note_on_the_search(toolbox):
    from rolegraph.agents.agent import FALLBACK_NOTE

    caller = ScriptedCaller([("I don't know what to search.", [])])
    res = run("searcher", caller, toolbox=toolbox, tools=("search",), question="Who discovered penicillin?")
    assert [u.note for u in res.tool_uses] == [FALLBACK_NOTE]
    written = run("searcher", ScriptedCaller([("Query: penicillin", [])]), toolbox=toolbox, tools=("search",))
    assert [u.note for u in written.tool_uses] == [None]  # the model's own query: nothing to say


def test_the_fallback_note_keeps_the_tools_own_note(toolbox):
    from rolegraph.agents.agent import FALLBACK_NOTE, NOTE_SEPARATOR

    class FellBack:
        async def asearch(self, query, k):
            hits, _ = await LocalSearch.from_documents(CORPUS).asearch(query, k)
            return hits, "web search failed (offline); fell back to local search"

    box = ToolBox([SearchTool(FellBack())])
    res = run("searcher", ScriptedCaller([("nothing", [])]), toolbox=box, tools=("search",))
    assert res.tool_uses[0].note.split(NOTE_SEPARATOR) == [
        FALLBACK_NOTE, "web search failed (offline); fell back to local search"]


def test_a_search_that_failed_is_not_passed_on_as_no_results():
    """Every search call failed: the evidence the next node reads said `(no results)`, as if nothing were found."""
    from rolegraph.agents.agent import SEARCH_FAILED

    class Down:
        async def asearch(self, query, k):
            raise ConnectionError("knowledge base offline")

    res = run("searcher", ScriptedCaller([("Query: penicillin", [])]), toolbox=ToolBox([SearchTool(Down())]),
              tools=("search",))
    assert [u.ok for u in res.tool_uses] == [False]
    assert res.output.text == "Evidence:\n" + SEARCH_FAILED.format(reason=res.tool_uses[0].summary) + "\n"
    assert "knowledge base offline" in res.output.text and "(no results)" not in res.output.text


def test_a_search_that_found_nothing_still_says_no_results(toolbox):
    res = run("searcher", ScriptedCaller([("Query: zzzqqqxxy", [])]), toolbox=toolbox, tools=("search",))
    assert [u.ok for u in res.tool_uses] == [True]
    assert res.output.text == "Evidence:\n(no results)\n"
