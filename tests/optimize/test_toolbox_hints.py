"""The search's toolbox is typed `ToolBox | None` where the search keeps and passes it, resolvable at run time."""
from __future__ import annotations

from typing import get_type_hints

from rolegraph.agents.registry import RoleRegistry
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.paired import store_paired
from rolegraph.optimize.rebuild import add_to_run, default_toolbox, pair_run
from rolegraph.tools.toolbox import ToolBox


def test_the_toolbox_hints_resolve_to_a_toolbox():
    assert get_type_hints(SearchContext)["toolbox"] == ToolBox | None
    assert get_type_hints(store_paired)["toolbox"] == ToolBox | None
    assert get_type_hints(store_paired)["roles"] == RoleRegistry | None
    assert get_type_hints(default_toolbox)["return"] is ToolBox
    for function in (pair_run, add_to_run):
        assert get_type_hints(function)["roles"] == RoleRegistry | None
