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
from rolegraph.agents.tooluse import MAX_SEARCH_QUERIES, Caller, ToolUse, chat_with_tools, search_evidence, text_calls
from rolegraph.models.types import Message
from rolegraph.transcript import Section, render_input

MAX_FALLBACK_QUERY_CHARS = 300


@dataclass
class AgentResult:
    output: RoleOutput
    tool_uses: list[ToolUse] = field(default_factory=list)


def build_messages(system: str, question: str, sections: list[Section]) -> list[Message]:
    return [{"role": "system", "content": system}, {"role": "user", "content": render_input(question, sections)}]


def _native_queries(comp: Any) -> list[str]:
    out = []
    for tc in comp.tool_calls:
        if tc.name == "search":
            try:
                args = json.loads(tc.arguments or "{}")
            except json.JSONDecodeError:
                continue
            if isinstance(args, dict) and str(args.get("query", "")).strip():
                out.append(str(args["query"]).strip())
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
        return await _search(role, messages, question, call, toolbox, native, uses)
    if tools:
        comp = await chat_with_tools(call, messages, toolbox, tools, native, uses)
    else:
        comp = await call(messages)
    return AgentResult(role.parse(comp.text, kind), uses)


async def _search(
    role: Role, messages: list[Message], question: str, call: Caller, toolbox: Any, native: bool, uses: list[ToolUse]
) -> AgentResult:
    """A searcher: the model writes queries, the search tool runs them, the hits are its output.

    A model that writes no usable query still searches: the question itself becomes the query.
    """
    schemas = toolbox.openai_schemas(["search"]) if native else None
    comp = await call(messages, schemas)
    queries = _native_queries(comp) + parse_queries(comp.text)
    if not queries and not native:
        queries = [str(args.get("query", "")).strip() for name, args in text_calls(comp.text) if name == "search"]
    queries = list(dict.fromkeys(q for q in queries if q))[:MAX_SEARCH_QUERIES]
    if not queries:
        first = (question.strip().splitlines() or [""])[0]
        queries = [first[:MAX_FALLBACK_QUERY_CHARS]]
    hits = await search_evidence(toolbox, queries, uses)
    text = format_evidence(hits)
    fields = {"queries": queries, "evidence": hits, "model_text": comp.text}
    return AgentResult(RoleOutput(text, None, fields), uses)
