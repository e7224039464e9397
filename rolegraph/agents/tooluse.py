"""How an agent uses tools: native function calling, or a plain-text protocol for models without it.

The ToolBox (rolegraph.tools) runs the tools; this module drives the conversation around them and
records each use. Tool rounds are bounded (MAX_TOOL_ROUNDS): the last call is made without tools so
the model has to answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from rolegraph.agents.parsers import hit_fields
from rolegraph.chat.types import Completion, Message
from rolegraph.errors import one_line
from rolegraph.tools.toolbox import ToolBox  # already loaded by then: in the hints that resolve at run time

MAX_TOOL_ROUNDS = 3  # tool-using turns per node before the model must answer
SEARCH_TOOL = "search"  # the tool a searcher's queries go through unless its node names others
MAX_SEARCH_QUERIES = 3
MAX_EVIDENCE_HITS = 6
MAX_SUMMARY_CHARS = 160  # of a tool result, kept in the trace
MAX_RESULT_CHARS = 4000  # of a tool result, shown to the model
TEXT_RESULTS_HEAD = "Tool results:"
TEXT_CONTINUE = "Continue. When you have what you need, give your final answer."


@dataclass(frozen=True, slots=True)
class ToolUse:
    """One tool call as the trace shows it (the runtime turns it into a graphs.result.ToolEvent)."""

    tool: str
    arguments: dict[str, Any]
    ok: bool
    summary: str
    note: str | None = None


class Caller(Protocol):
    """One model call of a node; the runtime binds model, sampling settings, budget and accounting."""

    def __call__(self, messages: list[Message], tools: list[dict] | None = None) -> Awaitable[Completion]: ...


def _args_dict(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, Mapping):
        return dict(arguments)
    if isinstance(arguments, str):
        try:
            value = json.loads(arguments or "{}")
        except json.JSONDecodeError:
            return {"input": arguments}
        return value if isinstance(value, dict) else {"input": value}
    return {} if arguments is None else {"input": arguments}


def _call_parts(call: Any) -> tuple[str, dict[str, Any]]:
    """(name, args) of a parsed text-protocol call: an object with name/arguments, or a pair."""
    if isinstance(call, tuple | list) and len(call) == 2:
        return str(call[0]), _args_dict(call[1])
    if isinstance(call, Mapping):
        return str(call.get("name", "")), _args_dict(call.get("arguments", call.get("args")))
    args = getattr(call, "arguments", None)
    if args is None:
        args = getattr(call, "args", None)
    return str(getattr(call, "name", "")), _args_dict(args)


async def run_tool(toolbox: ToolBox, name: str, args: dict[str, Any], events: list[ToolUse]) -> Any:
    """Call one tool through the toolbox and record it. A tool's own failure is a result, not a crash."""
    canonical = getattr(toolbox, "canonical", None)
    if canonical is not None:
        name = canonical(name)
    result = await toolbox.call(name, args)
    ok = bool(getattr(result, "ok", True))
    summary = one_line(getattr(result, "text", "") or "", MAX_SUMMARY_CHARS)
    events.append(ToolUse(name, args, ok, summary, getattr(result, "note", None)))
    return result


def tool_help(toolbox: ToolBox, names: tuple[str, ...], native: bool) -> str:
    """What the system prompt says about tools: a line for native calling, the text protocol otherwise."""
    if not names:
        return ""
    if native:
        return f"You can call these tools: {', '.join(names)}."
    return toolbox.describe(list(names))


def text_calls(text: str) -> list[tuple[str, dict[str, Any]]]:
    from rolegraph.tools.base import parse_text_calls

    return [_call_parts(c) for c in parse_text_calls(text or "")]


async def chat_with_tools(
    call: Caller, messages: list[Message], toolbox: ToolBox, names: tuple[str, ...], native: bool, events: list[ToolUse]
) -> Completion:
    """Call the model, run the tools it asks for, feed the results back; at most MAX_TOOL_ROUNDS rounds."""
    schemas = toolbox.openai_schemas(list(names)) if native else None
    messages = list(messages)
    for round_no in range(MAX_TOOL_ROUNDS + 1):
        last = round_no == MAX_TOOL_ROUNDS
        comp = await call(messages, None if last else schemas)
        if last:
            return comp
        if native and comp.tool_calls:
            messages.append(
                {
                    "role": "assistant",
                    "content": comp.text or None,
                    "tool_calls": [
                        {"id": tc.id, "type": "function", "function": {"name": tc.name, "arguments": tc.arguments}}
                        for tc in comp.tool_calls
                    ],
                }
            )
            results = await asyncio.gather(
                *(run_tool(toolbox, tc.name, _args_dict(tc.arguments), events) for tc in comp.tool_calls)
            )
            for tc, res in zip(comp.tool_calls, results):
                messages.append(
                    {"role": "tool", "tool_call_id": tc.id, "content": str(getattr(res, "text", ""))[:MAX_RESULT_CHARS]}
                )
            continue
        calls = [] if native else [(n, a) for n, a in text_calls(comp.text) if n in names]
        if not calls:
            return comp
        results = await asyncio.gather(*(run_tool(toolbox, n, a, events) for n, a in calls))
        shown = [f"[{n}] {str(getattr(r, 'text', ''))[:MAX_RESULT_CHARS]}" for (n, _), r in zip(calls, results)]
        messages += [
            {"role": "assistant", "content": comp.text},
            {"role": "user", "content": "\n".join([TEXT_RESULTS_HEAD, *shown, "", TEXT_CONTINUE])},
        ]
    raise AssertionError("unreachable: the last round returns")


def _hits_of(result: Any, tool: str = SEARCH_TOOL) -> list[dict[str, Any]]:
    """The hits of a search result: its structured list (`data`, or `data["hits"]`/`["results"]`), else
    (a tool that answers in text only, as many MCP tools do) its text as one hit titled by the tool."""
    if not getattr(result, "ok", True):
        return []
    data = getattr(result, "data", None)
    if isinstance(data, Mapping):
        data = data.get("hits", data.get("results"))
    if isinstance(data, list | tuple):
        return [hit_fields(h) for h in data if isinstance(h, Mapping) or hasattr(h, "title")]
    text = str(getattr(result, "text", "") or "").strip()
    return [{"title": f"{tool} result", "url": "", "text": text, "score": None}] if text else []


def query_argument(toolbox: ToolBox, tool: str) -> str:
    """The argument a search tool takes its query in: `query` if it has one, else its first required one."""
    try:
        params = toolbox[tool].parameters
    except (KeyError, TypeError, AttributeError):
        return "query"
    props, required = params.get("properties", {}), params.get("required", [])
    if "query" in props:
        return "query"
    return next((r for r in required if props.get(r, {}).get("type", "string") == "string"), "query")


async def search_evidence(
    toolbox: ToolBox, queries: list[str], events: list[ToolUse], tool: str = SEARCH_TOOL
) -> list[dict[str, Any]]:
    """Run the queries concurrently through `tool` and merge their hits (round-robin, no duplicates)."""
    arg = query_argument(toolbox, tool)
    results = await asyncio.gather(*(run_tool(toolbox, tool, {arg: q}, events) for q in queries))
    per_query = [_hits_of(r, tool) for r in results]
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for rank in range(max((len(h) for h in per_query), default=0)):
        for hits in per_query:
            if rank < len(hits):
                merged.setdefault((hits[rank]["title"], hits[rank]["url"]), hits[rank])
    return list(merged.values())[:MAX_EVIDENCE_HITS]
