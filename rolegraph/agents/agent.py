"""Run one role once: build its messages, call the model (with tools when it has them), parse.

The runtime supplies a `Caller` that binds the node's model, sampling settings, budget checks and
accounting, so an agent knows nothing about graphs; it only speaks the transcript contract.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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
from rolegraph.chat.types import Message
from rolegraph.transcript import Section, render_input

MAX_FALLBACK_QUERY_CHARS = 300


@dataclass
class AgentResult:
    output: RoleOutput
    tool_uses: list[ToolUse] = field(default_factory=list)


def build_messages(system: str, question: str, sections: list[Section]) -> list[Message]:
    return [{"role": "system", "content": system}, {"role": "user", "content": render_input(question, sections)}]


def _first_value(args: dict[str, Any]) -> str:
    """A search call's query: its `query` argument, else its first argument."""
    value = args.get("query", next(iter(args.values()), ""))
    return str(value).strip()


def _native_queries(comp: Any, names: set[str]) -> list[str]:
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


async def run_agent(
    role: Role,
    system: str,
    question: str,
    sections: list[Section],
    call: Caller,
    *,
    kind: str,
    toolbox: Any,
    tools: tuple[str, ...],
    native: bool,
) -> AgentResult:
    """One node's work. `system` is the rendered system prompt (with tool help when `tools`)."""
    messages = build_messages(system, question, sections)
    uses: list[ToolUse] = []
    if tools and toolbox is None:
        raise RoleError(f"role '{role.name}' needs tools ({', '.join(tools)}) but the run has no toolbox")
    if role.mode == "search":
        tool = tools[0] if tools else SEARCH_TOOL
        return await _search(role, messages, question, call, toolbox, native, uses, tool)
    if role.mode == "read":  # extractive reader (agents/reader.py): its own short prompt, a span as answer
        from rolegraph.agents.reader import read

        reading = await read(question, sections, call, toolbox, uses, tools[0] if tools else SEARCH_TOOL)
        text = "\n".join(
            [*reading.sentences, f"Source: {reading.source}", f"Final answer: {reading.answer or 'unknown'}"]
        )
        fields = {"candidates": reading.candidates, "source": reading.source, "model_text": reading.model_text}
        return AgentResult(RoleOutput(text, reading.answer, fields), uses)
    if tools:
        comp = await chat_with_tools(call, messages, toolbox, tools, native, uses)
    else:
        comp = await call(messages)
    return AgentResult(role.parse(comp.text, kind), uses)


async def _search(
    role: Role,
    messages: list[Message],
    question: str,
    call: Caller,
    toolbox: Any,
    native: bool,
    uses: list[ToolUse],
    tool: str = SEARCH_TOOL,
) -> AgentResult:
    """A searcher: the model writes queries, the search tool (`search`, or the first tool its node names,
    e.g. an MCP server's `docs.search`) runs them, the hits are its output.

    A model that writes no usable query still searches: the question itself becomes the query.
    """
    schemas = toolbox.openai_schemas([tool]) if native else None
    comp = await call(messages, schemas)
    names = {tool, getattr(toolbox[tool], "openai_name", tool)} if tool in toolbox else {tool}
    queries = _native_queries(comp, names) + parse_queries(comp.text)
    if not queries and not native:
        queries = [_first_value(args) for name, args in text_calls(comp.text) if name in names]
    queries = list(dict.fromkeys(q for q in queries if q))[:MAX_SEARCH_QUERIES]
    if not queries:
        first = (question.strip().splitlines() or [""])[0]
        queries = [first[:MAX_FALLBACK_QUERY_CHARS]]
    hits = await search_evidence(toolbox, queries, uses, tool)
    text = format_evidence(hits)
    fields = {"queries": queries, "evidence": hits, "model_text": comp.text}
    return AgentResult(RoleOutput(text, None, fields), uses)
