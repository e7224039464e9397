"""The graph layer's toolbox parameters are typed `ToolBox | None` and resolve at run time (`get_type_hints`, as a
user's type checker or a framework reading signatures does), and a chat node with tools but no toolbox gets no
tool help rather than an AttributeError while its prompt is rendered (the agent then stops it in one line)."""
from __future__ import annotations

from typing import get_type_hints

from rolegraph.agents.registry import RoleRegistry
from rolegraph.graphs.interop import load_app
from rolegraph.graphs.node_task import node_task
from rolegraph.graphs.nodes import NodePlan
from rolegraph.graphs.spec import NodeSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.serve.answerer import GraphAnswerer
from rolegraph.tools.toolbox import ToolBox


def test_the_toolbox_hints_resolve_to_a_toolbox_or_none():
    for function in (load_app, node_task, NodePlan.build, GraphAnswerer.__init__):
        assert get_type_hints(function)["toolbox"] == ToolBox | None, function.__qualname__
    assert get_type_hints(NodePlan)["toolbox"] == ToolBox | None
    assert get_type_hints(load_app)["roles"] == RoleRegistry | None
    assert get_type_hints(GraphAnswerer.__init__)["roles"] == RoleRegistry | None


def test_a_chat_node_with_tools_and_no_toolbox_renders_its_prompt_without_tool_help(settings):
    hub = ModelHub(ModelPool.builtin(), settings)
    reg = RoleRegistry.default()
    node = NodeSpec(id="s", role="solver", model="sim/llama-3.1-8b", params={"tools": ["calculator"]})
    plan = NodePlan.build(node, reg.get("solver"), hub.spec(node.model), hub.get(node.model), (), None)
    assert plan.tools == ("calculator",)
    prompt = plan.system_prompt("math", reg)
    assert prompt.startswith("Role: solver.") and "calculator" not in prompt
