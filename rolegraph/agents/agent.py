"""Run one role once: build its messages, call the model (with tools when it has them), parse.

The runtime supplies a `Caller` that binds the node's model, sampling settings, budget checks and
accounting, so an agent knows nothing about graphs; it only speaks the transcript contract.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from rolegraph.agents.parsers import RoleOutput, format_evidence, parse_queries
from rolegraph.agents.registry import Role, RoleError
from rolegraph.agents.tooluse import (
    MAX_SEARCH_QUERIES,
    SEARCH_TOOL,
    Caller,
    ToolUse,
    chat_with_tools,
    search_evidence,
    text_calls,
)
from rolegraph.agents.trim import (
    Trim,
    call_limits,
    cut_by_window,
    fit_evidence,
    may_overflow,
    warn_may_overflow,
    warn_trimmed,
    warn_window_cut,
)
from rolegraph.chat.types import Completion, Message
from rolegraph.tools.base import Tool
from rolegraph.tools.toolbox import ToolBox  # already loaded by then (tooluse): in the hints that resolve at run time
from rolegraph.transcript import EVIDENCE_HEAD, Section, render_input

MAX_FALLBACK_QUERY_CHARS = 300
QUERY_ARG = "query"  # a search tool's usual argument: a node's tool that takes it is preferred as its search tool
FALLBACK_NOTE = "the model wrote no usable search query, so the question itself was searched"
"""The trace's note (shown by `rolegraph run`) when a searcher searched its question instead of its queries."""
SEARCH_FAILED = "(the search failed: {reason})"
"""A searcher's block when every search call failed: `(no results)` would tell the reader nothing was found."""
NOTE_SEPARATOR = "\n"  # a tool use with several notes (this one and the tool's own) keeps one per line
ToolLookup = Mapping[str, Tool | type[Tool]]
"""What choosing a search tool reads of a toolbox: a `ToolBox` when a node runs, and the built-in tools' classes
(`default_tool_classes`) when `rolegraph validate` checks a graph file before any tool is built."""


@dataclass
class AgentResult:
    output: RoleOutput
    tool_uses: list[ToolUse] = field(default_factory=list)
    trim: Trim | None = None  # the searchers' evidence cut to fit the model's context window (agents/trim.py)


def build_messages(system: str, question: str, sections: list[Section]) -> list[Message]:
    return [{"role": "system", "content": system}, {"role": "user", "content": render_input(question, sections)}]


def _first_value(args: dict[str, Any]) -> str:
    """A search call's query: its `query` argument, else its first argument."""
    value = args.get("query", next(iter(args.values()), ""))
    return str(value).strip()


def _native_queries(comp: Completion, names: set[str]) -> list[str]:
    out = []
    for tc in comp.tool_calls:
        if tc.name in names:
            try:
                args = json.loads(tc.arguments or "{}")
            except json.JSONDecodeError:
                continue
            if isinstance(args, dict) and _first_value(args):
                out.append(_first_value(args))
    return out


def searches(toolbox: ToolLookup | None, name: str) -> bool:
    """Whether a searcher may send its queries to the tool `name`: any tool but those that declare
    `searches = False` (the calculator and the python sandbox compute; a question sent there as code or
    arithmetic finds nothing). A name the toolbox lacks (or no toolbox) is kept: the runtime reports unknown tools."""
    if toolbox is None or name not in toolbox:
        return True
    return bool(getattr(toolbox[name], "searches", True))


def search_tool(role: Role, toolbox: ToolLookup | None, tools: tuple[str, ...]) -> str:
    """The tool a search or read role sends its queries to: `search` when its node names no tools, else the
    first of them that takes a `query` argument, else the first that searches at all (`searches`).

    A node whose tools include none that searches (`tools: [python]`) is the user's one-line RoleError: its
    queries would otherwise run as code and the role would report "(no results)" as if nothing were found."""
    if not tools:
        return SEARCH_TOOL
    usable = [name for name in tools if searches(toolbox, name)]
    if not usable:
        raise RoleError(
            f"role '{role.name}' ({role.mode} mode) has no search tool: its node lists {', '.join(tools)}, "
            f"which compute rather than search; add '{SEARCH_TOOL}' (or an MCP or LangChain search tool) "
            "to the node's params.tools"
        )
    return next((name for name in usable if QUERY_ARG in _parameters(toolbox, name)), usable[0])


def _parameters(toolbox: ToolLookup | None, name: str) -> dict[str, Any]:
    """A tool's declared arguments (a tool without a JSON schema of properties declares none)."""
    if toolbox is None or name not in toolbox:
        return {}
    schema = getattr(toolbox[name], "parameters", None)
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return dict(properties) if isinstance(properties, dict) else {}


def _noted(use: ToolUse, note: str) -> ToolUse:
    """`use` with `note` added before any note of its own (one note per line)."""
    return replace(use, note=NOTE_SEPARATOR.join(n for n in (note, use.note) if n))


async def run_agent(
    role: Role,
    system: str,
    question: str,
    sections: list[Section],
    call: Caller,
    *,
    kind: str,
    toolbox: ToolBox | None,
    tools: tuple[str, ...],
    native: bool,
) -> AgentResult:
    """One node's work. `system` is the rendered system prompt (with tool help when `tools`).

    A searcher needs a toolbox even when its node lists no tools (it searches with `search`): without one it is
    the user's one-line RoleError, not an AttributeError from inside the search. A reader can do without one: it
    reads its predecessors' evidence.

    A prompt that would not fit the model's context window with the node's `max_tokens` is sent with fewer of its
    searchers' hits (`trim.fit_evidence`; the extractive reader's own short prompt needs none); what was cut is the
    result's `trim`, and the command line says so once (`warn_trimmed`). One that still would not fit is sent as it
    is (its max_tokens unchanged: results stay as they were), said once per model (`warn_may_overflow`), and a reply
    the window then cut is said apart from one cut at max_tokens (`warn_window_cut`)."""
    uses: list[ToolUse] = []
    if toolbox is None and (tools or role.mode == "search"):
        needed = ", ".join(tools) or SEARCH_TOOL
        raise RoleError(f"role '{role.name}' needs tools ({needed}) but the run has no toolbox")
    trim = None
    window, max_tokens = call_limits(call)
    if role.mode != "read" and window is not None:
        schemas = toolbox.openai_schemas(list(tools)) if toolbox is not None and tools and native else None
        if sections:
            sections, trim = fit_evidence(
                system, question, sections, window=window, max_tokens=max_tokens, tools=schemas
            )
        if trim is not None:
            warn_trimmed(trim, _model_id(call))
        if may_overflow(system, question, sections, window, max_tokens, schemas):
            warn_may_overflow(_model_id(call), window)
    if window is not None:
        call = _watch_window(call, window, _model_id(call))
    result = await _run(role, system, question, sections, call, kind, toolbox, tools, native, uses)
    return replace(result, trim=trim) if trim is not None else result


def _watch_window(call: Caller, window: int, model: str) -> Caller:
    """`call`, saying (`warn_window_cut`) when a reply comes back cut where its prompt and itself filled `window`:
    the server's "length" alone reads as a cut at max_tokens. The reply itself is returned as it came."""

    async def watched(messages: list[Message], tools: list[dict] | None = None) -> Completion:
        comp = await call(messages, tools)
        if comp.finish_reason == "length" and cut_by_window(comp.usage.input_tokens, comp.usage.output_tokens, window):
            warn_window_cut(model, window)
        return comp

    return watched


def _model_id(call: Caller) -> str:
    """The pool id of the model a caller binds (the runtime's carries its plan), for the trim's one line."""
    spec = getattr(getattr(call, "plan", None), "spec", None)
    return str(getattr(spec, "id", "the model"))


async def _run(
    role: Role,
    system: str,
    question: str,
    sections: list[Section],
    call: Caller,
    kind: str,
    toolbox: ToolBox | None,
    tools: tuple[str, ...],
    native: bool,
    uses: list[ToolUse],
) -> AgentResult:
    """`run_agent`'s work once the sections fit: search, read, or chat (with tools when the node has them)."""
    messages = build_messages(system, question, sections)
    if role.mode == "search":
        assert toolbox is not None  # refused just above
        return await _search(role, messages, question, call, toolbox, native, uses, search_tool(role, toolbox, tools))
    if role.mode == "read":  # extractive reader (agents/reader.py): its own short prompt, a span as answer
        from rolegraph.agents.reader import read

        reading = await read(question, sections, call, toolbox, uses, search_tool(role, toolbox, tools))
        text = "\n".join(
            [*reading.sentences, f"Source: {reading.source}", f"Final answer: {reading.answer or 'unknown'}"]
        )
        fields = {"candidates": reading.candidates, "source": reading.source, "model_text": reading.model_text}
        return AgentResult(RoleOutput(text, reading.answer, fields), uses)
    if tools:
        assert toolbox is not None  # refused above
        comp = await chat_with_tools(call, messages, toolbox, tools, native, uses)
    else:
        comp = await call(messages)
    return AgentResult(role.parse(comp.text, kind), uses)


async def _search(
    role: Role,
    messages: list[Message],
    question: str,
    call: Caller,
    toolbox: ToolBox,
    native: bool,
    uses: list[ToolUse],
    tool: str = SEARCH_TOOL,
) -> AgentResult:
    """A searcher: the model writes queries, the search tool (`search`, or the node's own, e.g. an MCP
    server's `docs.search`: `search_tool`) runs them, the hits are its output.

    A model that writes no usable query still searches: the question itself becomes the query, and the
    search's trace entry says so (FALLBACK_NOTE), so the run's output does not pass it off as the model's.
    """
    schemas = toolbox.openai_schemas([tool]) if native else None
    comp = await call(messages, schemas)
    names = {tool, getattr(toolbox[tool], "openai_name", tool)} if tool in toolbox else {tool}
    queries = _native_queries(comp, names) + parse_queries(comp.text)
    if not queries and not native:
        queries = [_first_value(args) for name, args in text_calls(comp.text) if name in names]
    queries = list(dict.fromkeys(q for q in queries if q))[:MAX_SEARCH_QUERIES]
    fell_back = not queries
    if fell_back:
        first = (question.strip().splitlines() or [""])[0]
        queries = [first[:MAX_FALLBACK_QUERY_CHARS]]
    before = len(uses)
    hits = await search_evidence(toolbox, queries, uses, tool)
    if fell_back:
        uses[before:] = [_noted(use, FALLBACK_NOTE) for use in uses[before:]]
    text = format_evidence(hits)
    searched = uses[before:]
    if not hits and searched and not any(use.ok for use in searched):  # not `(no results)`: nothing was searched
        text = f"{EVIDENCE_HEAD}\n{SEARCH_FAILED.format(reason=searched[0].summary)}\n"
    fields = {"queries": queries, "evidence": hits, "model_text": comp.text}
    return AgentResult(RoleOutput(text, None, fields), uses)
