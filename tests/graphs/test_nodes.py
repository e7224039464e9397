"""A node's system prompt: the help of its tools reaches the model whether or not its role's template has a
`{tools}` slot (a role registered in Python or a roles file rarely has one)."""
import pytest

from rolegraph.agents.registry import RoleRegistry
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tools.calculator import Calculator
from rolegraph.tools.toolbox import ToolBox

MODEL = "sim/llama-3.2-3b"
TEXT_PROTOCOL_LINE = 'CALL <tool name> {"<argument>": "<value>"}'


def prompt_of(tmp_path, role: str, roles: RoleRegistry, protocol: str) -> str:
    spec = GraphSpec.model_validate(
        {"nodes": [{"id": "g", "role": role, "model": MODEL,
                    "params": {"tools": ["calculator"], "tool_protocol": protocol}}]}
    )
    hub = ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False))
    graph = CompiledGraph(spec, hub, toolbox=ToolBox([Calculator()]), roles=roles)
    return graph.plans["g"].system_prompt("math", roles)


def test_a_role_without_a_tools_slot_gets_the_text_protocol_and_the_tool_list(tmp_path):
    roles = RoleRegistry.default()
    roles.register("geo", "Role: geo.\nAnswer the question; use the tools when they help.\n{answer_format}")
    prompt = prompt_of(tmp_path, "geo", roles, "text")
    assert prompt.startswith("Role: geo.\nAnswer the question; use the tools when they help.")
    assert TEXT_PROTOCOL_LINE in prompt
    assert "- calculator {" in prompt
    assert prompt.count(TEXT_PROTOCOL_LINE) == 1


def test_a_role_without_a_tools_slot_is_told_its_native_tools_by_name(tmp_path):
    roles = RoleRegistry.default()
    roles.register("geo", "Role: geo.\nAnswer the question.")
    prompt = prompt_of(tmp_path, "geo", roles, "native")
    assert "You can call these tools: calculator." in prompt
    assert TEXT_PROTOCOL_LINE not in prompt


@pytest.mark.parametrize("protocol", ["text", "native"])
def test_a_role_with_a_tools_slot_gets_the_help_there_once(tmp_path, protocol):
    roles = RoleRegistry.default()
    roles.register("geo", "Role: geo.\nTools:\n{tools}\nNow answer.")
    prompt = prompt_of(tmp_path, "geo", roles, protocol)
    marker = TEXT_PROTOCOL_LINE if protocol == "text" else "You can call these tools: calculator."
    assert prompt.count(marker) == 1
    body = prompt.split("Tools:\n", 1)[1]
    assert "calculator" in body.split("Now answer.", 1)[0]
    assert "calculator" not in body.split("Now answer.", 1)[1]
