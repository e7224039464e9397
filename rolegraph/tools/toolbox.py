"""`ToolBox`: the tools a run offers its roles, by name, and the default set.

Roles call tools by name with whatever arguments a model produced (a dict, or the JSON text of an
OpenAI tool call); the box turns every failure, including an unknown tool, into ok=False.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from rolegraph.settings import Settings
from rolegraph.tools.base import Tool, ToolResult, describe_tools, one_line
from rolegraph.tools.calculator import Calculator
from rolegraph.tools.local_search import LocalSearch, SearchTool
from rolegraph.tools.sandbox import PythonTool
from rolegraph.tools.web_search import WebSearch

CORPUS_DESCRIPTION = "Search this task's documents; returns numbered evidence with titles. Use a few keywords."
WIKI_DESCRIPTION = (
    "Search an offline encyclopedia (10,033 Wikipedia summaries); returns numbered "
    "evidence with titles and URLs. Use a few keywords."
)
WEB_DESCRIPTION = (
    "Search the web (falls back to an offline encyclopedia when the web is unreachable); "
    "returns numbered evidence with titles and URLs."
)


class ToolBox(Mapping[str, Tool]):
    def __init__(self, tools: Iterable[Tool]):
        self._tools: dict[str, Tool] = {}
        self._aliases: dict[str, str] = {}  # OpenAI-safe name -> name (MCP tools: docs__search -> docs.search)
        for tool in tools:
            if tool.name in self._tools:
                raise ValueError(f"two tools named '{tool.name}'")
            self._tools[tool.name] = tool
            if tool.openai_name != tool.name:
                self._aliases[tool.openai_name] = tool.name

    def canonical(self, name: str) -> str:
        """The tool's own name for a name a model used (its OpenAI-safe alias is accepted too)."""
        return name if name in self._tools else self._aliases.get(name, name)

    def __getitem__(self, name: str) -> Tool:
        return self._tools[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tools)

    def __len__(self) -> int:
        return len(self._tools)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def _select(self, names: Iterable[str] | None) -> list[Tool]:
        return [self._tools[n] for n in (self.names if names is None else names) if n in self._tools]

    def openai_schemas(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The `tools` list for an OpenAI-compatible request (only the named tools, if given)."""
        return [tool.openai_schema() for tool in self._select(names)]

    def describe(self, names: Iterable[str] | None = None) -> str:
        """The plain-text tool protocol and tool list, for models without native function calling."""
        return describe_tools(self._select(names))

    async def call(self, name: str, args: dict[str, Any] | str | None = None) -> ToolResult:
        """Call a tool by name; `args` may be the JSON text of a tool call. Never raises."""
        tool = self._tools.get(self.canonical(name))
        if tool is None:
            return ToolResult(ok=False, text=f"unknown tool '{name}'; available: {', '.join(self.names) or 'none'}")
        if isinstance(args, str):
            try:
                args = json.loads(args) if args.strip() else {}
            except json.JSONDecodeError as exc:
                return ToolResult(ok=False, text=f"{name}: arguments are not valid JSON ({one_line(exc)})")
        if args is None:
            args = {}
        if not isinstance(args, dict):
            return ToolResult(ok=False, text=f"{name}: arguments must be a JSON object, got {type(args).__name__}")
        return await tool.call(**{str(k): v for k, v in args.items()})


def default_tool_names() -> tuple[str, ...]:
    """The names `default_toolbox` provides, known without building it (no index, no sandbox probe)."""
    return (Calculator.name, PythonTool.name, SearchTool.name)


def default_tool_classes() -> dict[str, type[Tool]]:
    """The built-in tools' classes by name: what a check needs to know of them (does it search?) without
    building one."""
    return {cls.name: cls for cls in (Calculator, PythonTool, SearchTool)}


def default_toolbox(settings: Settings, corpus: list[dict] | None = None, web: bool = False) -> ToolBox:
    """calculator, python, and search: over `corpus` when given; else the web with the offline wiki as
    fallback when `web`; else the offline wiki under settings.index_dir (built on its first search)."""
    if corpus is not None:
        search = SearchTool(LocalSearch.from_documents(corpus), CORPUS_DESCRIPTION)
    elif web:
        search = SearchTool(WebSearch(fallback=LocalSearch.wikipedia(settings.index_dir)), WEB_DESCRIPTION)
    else:
        search = SearchTool(LocalSearch.wikipedia(settings.index_dir), WIKI_DESCRIPTION)
    return ToolBox([Calculator(), PythonTool(allow_weak=settings.allow_weak_sandbox, state_dir=settings.home), search])
