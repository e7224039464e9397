"""The worst case a fan-out holds before a copy and a loop before a round (`instances.worst_spend`): per node, its
prompt estimate (system prompt and the given characters at 3 characters a token, plus every earlier node's
max_tokens, which it may read) and its max_tokens of output; a chat node with tools may call its model once per
tool round and once more. Worked out here from those rules, node by node."""
import math

import pytest

from rolegraph.agents.registry import RoleRegistry
from rolegraph.agents.tooluse import MAX_TOOL_ROUNDS
from rolegraph.graphs.instances import worst_spend
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tools.calculator import Calculator
from rolegraph.tools.toolbox import ToolBox

S1, S8 = "sim/llama-3.2-1b", "sim/llama-3.1-8b"
CHARS = 90  # the question and inputs a spawn reads


@pytest.fixture
def plans(tmp_path):
    spec = GraphSpec.model_validate({
        "nodes": [{"id": "a", "role": "solver", "model": S1, "params": {"max_tokens": 100}},
                  {"id": "b", "role": "solver", "model": S8, "params": {"max_tokens": 200, "tools": ["calculator"]}},
                  {"id": "c", "role": "fuser", "model": S8, "params": {"max_tokens": 300}}],
        "edges": [["a", "b"], ["b", "c"]]})
    hub = ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False))
    graph = CompiledGraph(spec, hub, toolbox=ToolBox([Calculator()]))
    return [graph.plans[n] for n in ("a", "b", "c")]


def test_each_node_reads_the_earlier_nodes_outputs_and_a_tool_user_calls_once_per_round_and_once_more(plans):
    roles = RoleRegistry.default()
    a, b, c = plans
    calls = {"a": 1, "b": MAX_TOOL_ROUNDS + 1, "c": 1}
    read_before = {"a": 0, "b": 100, "c": 100 + 200}
    tokens, usd = 0, 0.0
    for plan in plans:
        prompt = math.ceil((len(plan.system_prompt("math", roles)) + CHARS) / 3) + read_before[plan.id]
        tokens += calls[plan.id] * (prompt + plan.max_tokens)
        usd += calls[plan.id] * plan.spec.cost(prompt, plan.max_tokens)
    got_tokens, got_usd = worst_spend(plans, CHARS, "math", roles)
    assert got_tokens == tokens and got_usd == pytest.approx(usd, rel=1e-12)
    assert b.tools == ("calculator",) and b.role.mode == "chat" and a.tools == c.tools == ()  # the cases under test
