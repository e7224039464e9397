"""The agents' toolbox is typed as what it is (`ToolBox`, or the built-in tools' classes where `rolegraph validate`
chooses a search tool before building any), the hints resolve at run time, and a searcher given no toolbox stops
with the user's one line rather than an AttributeError from inside the search."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import get_type_hints

import pytest

from rolegraph.agents.agent import run_agent, search_tool
from rolegraph.agents.reader import read
from rolegraph.agents.registry import RoleError, RoleRegistry
from rolegraph.agents.tooluse import SEARCH_TOOL
from rolegraph.tools.local_search import SearchTool
from rolegraph.tools.toolbox import ToolBox, default_tool_classes

from .conftest import ScriptedCaller

REG = RoleRegistry.default()


@pytest.mark.parametrize("function", [run_agent, read])
def test_the_toolbox_hint_resolves_to_a_toolbox_or_none(function):
    assert get_type_hints(function)["toolbox"] == ToolBox | None


def test_the_search_tool_is_chosen_from_a_toolbox_or_from_the_tool_classes():
    from rolegraph.agents.agent import ToolLookup

    assert get_type_hints(search_tool)["toolbox"] == ToolLookup | None
    classes = default_tool_classes()
    assert classes["search"] is SearchTool  # classes, not tools: what `rolegraph validate` passes
    searcher = REG.get("searcher")
    assert search_tool(searcher, classes, ("python", "calculator", "search")) == "search"
    with pytest.raises(RoleError, match="has no search tool: its node lists python, calculator"):
        search_tool(searcher, classes, ("python", "calculator"))


def test_a_searcher_without_a_toolbox_is_one_line_naming_the_search_tool():
    """A search role whose node lists no tools still searches (with `search`): with no toolbox it used to fail
    as `'NoneType' object has no attribute 'openai_schemas'` from inside the search."""
    bare = replace(REG.get("searcher"), tools=())  # a search role with no tools of its own
    caller = ScriptedCaller([("Query: penicillin", [])])
    with pytest.raises(RoleError, match=rf"^role 'searcher' needs tools \({SEARCH_TOOL}\) but the run has no toolbox$"):
        asyncio.run(run_agent(bare, "Role: searcher.", "Q?", [], caller, kind="qa", toolbox=None, tools=(),
                              native=False))
    assert caller.sent == []  # refused before any model call was paid for
