"""LangChain tools in and out: any `langchain_core` tool as a rolegraph `Tool`, and back.

Users already have LangChain tools (`@tool` functions, `StructuredTool`, `BaseTool` subclasses);
`from_langchain` lets a role call one through a `ToolBox` exactly like a built-in tool, e.g. as the
searcher's `search`. Structured outputs (LangChain `Document`s, lists of mappings, a tool's artifact)
become search hits in `ToolResult.data`, so a searcher turns them into numbered evidence; a plain
string is one hit. `to_langchain` goes the other way: a rolegraph tool becomes a `StructuredTool`
whose content is the text a model reads and whose artifact is the structured data.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from langchain_core.documents import Document
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langchain_core.utils.function_calling import convert_to_openai_tool

from rolegraph.tools.base import DEFAULT_TIMEOUT_S, Tool, ToolResult
from rolegraph.tools.toolbox import ToolBox

ARTIFACT_FORMAT: Final = "content_and_artifact"
TOOL_CALL_ID = "rolegraph"
QUERY_ARG = "query"  # what the searcher role passes; mapped onto a lone required argument of another name
MAX_HITS = 50
_SAFE_NAME = re.compile(r"[^\w.-]+")
_TEXT_KEYS = ("text", "content", "page_content", "snippet", "body", "summary")
_TITLE_KEYS = ("title", "name", "heading")
_URL_KEYS = ("url", "link", "href", "source")
EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


def tool_name(name: str) -> str:
    """A name the text protocol can call (`CALL <name> {...}`): runs of other characters become '_'."""
    safe = _SAFE_NAME.sub("_", name.strip()).strip("_")
    if not safe:
        raise ValueError(f"tool name {name!r} has no usable characters")
    return safe if not safe[0].isdigit() else f"t_{safe}"


def _first(get: Any, keys: Iterable[str]) -> str:
    for key in keys:
        value = get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def _hit(value: Any, default_title: str) -> dict[str, Any] | None:
    """One search hit {title, url, text, score} from a Document or a mapping (None if it has no text)."""
    if isinstance(value, Document):
        meta = value.metadata or {}
        return {
            "title": _first(meta.get, _TITLE_KEYS) or default_title,
            "url": _first(meta.get, _URL_KEYS),
            "text": value.page_content,
            "score": meta.get("score"),
        }
    if isinstance(value, Mapping):
        text = _first(value.get, _TEXT_KEYS)
        if not text:
            return None
        return {
            "title": _first(value.get, _TITLE_KEYS) or default_title,
            "url": _first(value.get, _URL_KEYS),
            "text": text,
            "score": value.get("score"),
        }
    if isinstance(value, str) and value.strip():
        return {"title": default_title, "url": "", "text": value.strip(), "score": None}
    return None


def as_hits(output: Any, default_title: str) -> list[dict[str, Any]]:
    """Search hits from a tool's output: Documents, mappings, strings, or a JSON list of them."""
    if isinstance(output, str):
        text = output.strip()
        if text.startswith("["):
            try:
                return as_hits(json.loads(text), default_title)
            except json.JSONDecodeError:
                pass
        hit = _hit(text, default_title)
        return [hit] if hit else []
    if isinstance(output, (Document, Mapping)):
        output = [output]
    if not isinstance(output, (list, tuple)):
        return []
    hits = [h for h in (_hit(v, default_title) for v in output[:MAX_HITS]) if h is not None]
    return hits


def _text(output: Any) -> str:
    """What the model reads: a string as is, documents as numbered evidence, anything else as JSON."""
    if isinstance(output, str):
        return output
    if isinstance(output, Document) or (
        isinstance(output, (list, tuple)) and output and all(isinstance(d, Document) for d in output)
    ):
        docs = [output] if isinstance(output, Document) else list(output)
        lines = []
        for i, doc in enumerate(docs, 1):
            hit = _hit(doc, "document") or {}
            source = f" ({hit['url']})" if hit.get("url") else ""
            lines.append(f"[{i}] {hit.get('title')}{source}\n{doc.page_content}")
        return "\n".join(lines)
    if (
        isinstance(output, (list, tuple))
        and output
        and all(isinstance(b, Mapping) and b.get("type") == "text" for b in output)
    ):
        return "\n".join(str(b.get("text", "")) for b in output)  # LangChain content blocks
    try:
        return json.dumps(output, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(output)


class LangChainTool(Tool):
    """A `langchain_core` tool behind the rolegraph `Tool` contract (async, never raises)."""

    def __init__(
        self,
        tool: BaseTool,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ):
        if not isinstance(tool, BaseTool):
            raise TypeError(f"expected a langchain_core BaseTool (e.g. from @tool), got {type(tool).__name__}")
        self.lc_tool = tool
        self.name = tool_name(name or tool.name)
        self.description = description or tool.description or self.name
        params = convert_to_openai_tool(tool)["function"].get("parameters") or EMPTY_SCHEMA
        self.parameters = {"type": "object", **params}
        self.timeout_s = timeout_s

    def normalise_args(self, args: dict[str, Any]) -> dict[str, Any]:
        """Also map `query` (what the searcher role sends) onto a lone required argument named otherwise."""
        props = self.parameters.get("properties", {})
        required = self.parameters.get("required", [])
        if QUERY_ARG in args and QUERY_ARG not in props and len(required) == 1 and required[0] not in args:
            args = {**args, required[0]: args[QUERY_ARG]}
        return super().normalise_args(args)

    async def _run(self, **kwargs: Any) -> ToolResult:
        tool = self.lc_tool
        if getattr(tool, "response_format", "content") == ARTIFACT_FORMAT:
            msg = await tool.ainvoke({"type": "tool_call", "name": tool.name, "args": kwargs, "id": TOOL_CALL_ID})
            content, raw = msg.content, msg.artifact
            if getattr(msg, "status", "success") == "error":
                return ToolResult(ok=False, text=f"{self.name}: {_text(content)}")
        else:
            raw = await tool.ainvoke(kwargs)
            content = raw
        text = _text(content)
        hits = as_hits(raw if raw is not None else content, self.name)
        return ToolResult(ok=True, text=text, data={"hits": hits, "raw": raw})


def from_langchain(
    tool: BaseTool, *, name: str | None = None, description: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> LangChainTool:
    """A LangChain tool as a rolegraph `Tool`; `name="search"` makes it the searcher role's search tool."""
    return LangChainTool(tool, name=name, description=description, timeout_s=timeout_s)


def to_langchain(tool: Tool) -> StructuredTool:
    """A rolegraph tool as a LangChain `StructuredTool` (content = the text, artifact = `ToolResult.data`).

    A failed call raises `ToolException`, which the StructuredTool hands back to the model as its error
    text (`handle_tool_error=True`), as LangChain agents expect.
    """

    async def acall(**kwargs: Any) -> tuple[str, Any]:
        result = await tool.call(**kwargs)
        if not result.ok:
            raise ToolException(result.text)
        return result.text, result.data

    def call(**kwargs: Any) -> tuple[str, Any]:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(acall(**kwargs))
        raise ToolException(f"{tool.name}: call it with `ainvoke` inside a running event loop")

    return StructuredTool.from_function(
        func=call,
        coroutine=acall,
        name=tool.name,
        description=tool.description,
        args_schema=dict(tool.parameters),
        response_format=ARTIFACT_FORMAT,
        handle_tool_error=True,
    )


def toolbox_from_langchain(tools: Iterable[BaseTool | Tool], *, names: Mapping[str, str] | None = None) -> ToolBox:
    """A `ToolBox` of LangChain tools (and rolegraph tools, kept as they are); `names` renames by LC name."""
    names = dict(names or {})
    return ToolBox([t if isinstance(t, Tool) else from_langchain(t, name=names.get(t.name)) for t in tools])


def toolbox_to_langchain(box: ToolBox, names: Iterable[str] | None = None) -> list[StructuredTool]:
    """The box's tools (or the named ones) as LangChain tools, e.g. for a LangChain agent or `bind_tools`."""
    return [to_langchain(box[n]) for n in (box.names if names is None else names)]


__all__ = [
    "LangChainTool",
    "as_hits",
    "from_langchain",
    "to_langchain",
    "tool_name",
    "toolbox_from_langchain",
    "toolbox_to_langchain",
]
