"""Which nodes share one `n=k` request (graphs/coalesce.py): nodes of one model, role, params and inputs on an
OpenAI-compatible backend, in groups of two or more; a node with tools never shares (its calls are a conversation
with tool results, not one sampled reply), however alike two such nodes are."""
from __future__ import annotations

from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.coalesce import coalesce_groups
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

HTTP = "http/m"
POOL = ModelPool([
    *ModelPool.builtin(),
    ModelSpec(id=HTTP, backend="openai", base_url="http://127.0.0.1:9/v1", model="x", price_in=0.5, price_out=1.5),
])


def groups(builder: Graph, tmp_path) -> dict[str, str]:
    spec = builder.build()
    return coalesce_groups(spec, CompiledGraph(spec, ModelHub(POOL, Settings(home=tmp_path))).plans)


def test_identical_nodes_with_tools_do_not_share_a_request(tmp_path):
    g = Graph("g").node("t1", "solver", HTTP, tools=["calculator"]).node("t2", "solver", HTTP, tools=["calculator"])
    g = g.node("a", "solver", HTTP).node("b", "solver", HTTP).node("f", "fuser", HTTP)
    for n in ("t1", "t2", "a", "b"):
        g = g.edge(n, "f")
    found = groups(g, tmp_path)
    assert set(found) == {"a", "b"}  # the two plain solvers only


def test_nodes_reading_different_predecessors_do_not_share(tmp_path):
    g = Graph("g").node("p", "solver", HTTP).node("q", "solver", HTTP, temperature=0.3)
    g = g.node("x", "verifier", HTTP).node("y", "verifier", HTTP).node("f", "fuser", HTTP)
    g = g.edge("p", "x").edge("q", "y").edge("x", "f").edge("y", "f").edge("p", "f").edge("q", "f")
    assert groups(g, tmp_path) == {}  # x reads p, y reads q; p and q differ in temperature


def test_coalesce_false_keeps_alike_nodes_apart_and_true_is_the_default(tmp_path):
    g = Graph("g").node("o1", "solver", HTTP, coalesce=False).node("o2", "solver", HTTP, coalesce=False)
    g = g.node("y1", "solver", HTTP, coalesce=True).node("y2", "solver", HTTP, coalesce=True).node("f", "fuser", HTTP)
    for n in ("o1", "o2", "y1", "y2"):
        g = g.edge(n, "f")
    assert set(groups(g, tmp_path)) == {"y1", "y2"}


def test_nodes_of_different_roles_do_not_share(tmp_path):
    same = {"temperature": 0.5, "max_tokens": 100}  # so that only the role tells the two apart
    g = Graph("g").node("p", "planner", HTTP).node("s", "solver", HTTP, **same).node("v", "verifier", HTTP, **same)
    g = g.node("f", "fuser", HTTP).edge("p", "s").edge("p", "v").edge("s", "f").edge("v", "f")
    assert groups(g, tmp_path) == {}  # s and v read the same node with the same model and params: other prompts
