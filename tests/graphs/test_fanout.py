"""Dynamic fan-out on the sim pool: the planner's sub-questions decide the number of searchers."""
import asyncio

import pytest

from rolegraph.errors import BudgetExceededError
from rolegraph.graphs.budget import Budget
from rolegraph.graphs.runtime import CompiledGraph, run_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tools.local_search import LocalSearch, SearchTool
from rolegraph.tools.toolbox import ToolBox

S3, S8 = "sim/llama-3.2-3b", "sim/llama-3.1-8b"
DOCS = [{"title": "Penicillin", "text": "Penicillin was discovered by Alexander Fleming in 1928."},
        {"title": "Alexander Fleming", "text": "Alexander Fleming was born in Darvel, Scotland."},
        {"title": "Darvel", "text": "Darvel is a town in East Ayrshire, Scotland."}]
ONE = "Who discovered penicillin?"
THREE = "Who discovered penicillin? Where was the discoverer born; and in which country is that town?"


def graph(max_fanout=4, sub=False) -> GraphSpec:
    nodes = [{"id": "plan", "role": "planner", "model": S8}, {"id": "search", "role": "searcher", "model": S3},
             {"id": "solve", "role": "solver", "model": S8}]
    edges = [["plan", "search"], ["search", "solve"]]
    group = ["search"]
    if sub:  # a small sub-graph per sub-question: searcher -> solver, all read by a fuser
        nodes.append({"id": "fuse", "role": "fuser", "model": S8})
        edges.append(["solve", "fuse"])
        group = ["search", "solve"]
    return GraphSpec.model_validate({"name": "ms", "nodes": nodes, "edges": edges,
                                     "fanout": [{"from": "plan", "nodes": group, "max_fanout": max_fanout}]})


@pytest.fixture
def hub(tmp_path):
    return ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False))


def toolbox():
    return ToolBox([SearchTool(LocalSearch.from_documents(DOCS))])


def run(spec, question, hub, **kw):
    it = Item(id=str(abs(hash(question)) % 997), question=question, gold="Alexander Fleming", family="qa")
    return asyncio.run(run_graph(spec, it, hub, toolbox=toolbox(), **kw))


def test_the_planner_decides_how_many_searchers_run(hub):
    one, three = run(graph(), ONE, hub), run(graph(), THREE, hub)
    assert [n.id for n in one.runs("search")] == ["search[1]"]
    assert [n.id for n in three.runs("search")] == ["search[1]", "search[2]", "search[3]"]
    # each copy searched its own sub-question, and the solver read every copy
    queries = [[t.arguments["query"] for t in n.tools] for n in three.runs("search")]
    assert len({q[0] for q in queries}) == 3 and all(len(q) == 1 for q in queries)
    assert three.node("solve").inputs == ["search[1]", "search[2]", "search[3]"]
    assert all(n.inputs == ["plan"] and n.instance_of == "search" for n in three.runs("search"))
    assert "spawned 3 x [search]" in three.notes[0] and "3 item(s)" in three.notes[0]
    # the copies ran side by side: each starts when the planner ends (modelled times)
    assert {n.start_s for n in three.runs("search")} == {three.node("plan").end_s}
    assert three.flops_units > one.flops_units  # the as-run graph's units count the copies paid for


def test_max_fanout_caps_the_copies(hub):
    res = run(graph(max_fanout=2), THREE, hub)
    assert len(res.runs("search")) == 2 and "capped at max_fanout 2" in res.notes[0]


def test_a_sub_graph_per_sub_question(hub):
    res = run(graph(sub=True), THREE, hub)
    assert [n.id for n in res.runs("solve")] == ["solve[1]", "solve[2]", "solve[3]"]
    assert [n.inputs for n in res.runs("solve")] == [["search[1]"], ["search[2]"], ["search[3]"]]
    assert res.node("fuse").inputs == ["solve[1]", "solve[2]", "solve[3]"] and res.answer == res.node("fuse").answer


def test_the_budget_meter_stops_spawning(hub):
    full = run(graph(), THREE, hub)
    per_copy = full.node("search[1]").tokens_in + full.node("search[1]").tokens_out
    cap = full.node("plan").tokens_in + full.node("plan").tokens_out + 2 * per_copy
    try:
        res = run(graph(), THREE, hub, budget=Budget(max_tokens=cap))
    except BudgetExceededError as exc:  # the solver may not fit either: then the run stops there, never silently
        res = exc.partial
        assert "before node 'solve'" in str(exc)
    assert len(res.runs("search")) < 3 and "stopped before copy" in res.notes[0] and "token budget" in res.notes[0]
    assert res.tokens <= cap


def test_the_langgraph_stream_shows_spawned_tasks(hub):
    from rolegraph.graphs.interop import graph_context, graph_input

    graph_ = CompiledGraph(graph(), hub, toolbox=toolbox())
    it = Item(id="s", question=THREE, gold="Alexander Fleming", family="qa")

    async def main():
        names = []
        async for chunk in graph_.pregel.astream(graph_input(it), context=graph_context(graph_, it),
                                                 stream_mode="updates"):
            names += list(chunk)
        return names

    names = asyncio.run(main())
    assert names.count("search") == 3 and "fanout_plan" in names and "plan" in names


def test_a_fanout_over_a_list_a_user_role_does_not_produce_says_so_in_the_notes(hub):
    """Validation cannot see a user role's fields, so a typo in `over` passes it; the run's note names it."""
    from rolegraph.agents.parsers import parse_plan
    from rolegraph.agents.registry import RoleRegistry
    from rolegraph.graphs.validate import validate_graph

    roles = RoleRegistry.default()
    roles.register("outliner", "Write a plan with sub-questions.\n", parse_plan, answers=False)
    spec = graph().model_copy(update={"nodes": [graph().nodes[0].model_copy(update={"role": "outliner"}),
                                                *graph().nodes[1:]]})
    spec.fanout[0].over = "subquestions"
    assert validate_graph(spec, ModelPool.builtin(), roles.names()) == []
    it = Item(id="o1", question=THREE, gold="Alexander Fleming", family="qa")
    res = asyncio.run(run_graph(spec, it, hub, toolbox=toolbox(), roles=roles))
    assert [n.id for n in res.runs("search")] == ["search[1]"]
    assert ("fanout from 'plan': 0 item(s) in subquestions; its output has no list 'subquestions', so one copy "
            "runs on the question itself") in res.notes[0]
    # over the list the parser does produce (the sim writes no plan for a role it does not know): an empty list
    spec.fanout[0].over = "sub_questions"
    res = asyncio.run(run_graph(spec, it, hub, toolbox=toolbox(), roles=roles))
    assert "0 item(s) in sub_questions; none listed, so one copy runs" in res.notes[0]
