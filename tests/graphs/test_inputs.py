"""The input state of a compiled graph invoked directly (an app calling `.pregel`): a wrong shape is rolegraph's
one-line GraphError, raised through LangGraph, not a KeyError or AttributeError from inside the entry task."""
import asyncio

import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.interop import graph_context, graph_input
from rolegraph.graphs.runtime import CompiledGraph, compile_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

ONE = GraphSpec.model_validate({"nodes": [{"id": "a", "role": "solver", "model": "sim/llama-3.2-1b"}]})


def app(tmp_path):
    return compile_graph(ONE, ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False)))


@pytest.mark.parametrize(
    ("inputs", "says"),
    [
        ("What is 2 + 2?", "input must be a dict, got str"),
        ({}, "input has no 'question'"),
        ({"seed": 0}, "input has no 'question'"),
        ({"question": 42}, "'question' of type int, not str"),
        ({"question": "What is 2 + 2?", "seed": "first"}, "'seed' must be an integer, got str"),
    ],
    ids=["bare-string", "empty", "no-question", "int-question", "word-seed"],
)
def test_a_wrong_input_state_is_one_graph_error_naming_graph_input(tmp_path, inputs, says):
    with pytest.raises(GraphError) as caught:
        asyncio.run(app(tmp_path).ainvoke(inputs))
    message = str(caught.value)
    assert says in message and "graph_input(" in message
    assert "\n" not in message


def compiled(tmp_path) -> CompiledGraph:
    return CompiledGraph(ONE, ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False)))


def _two_items():
    from rolegraph.tasks.registry import get_task

    return get_task("gsm").items("validation")[:2]


@pytest.mark.parametrize(
    ("state", "says"),
    [
        (lambda a, b: graph_input(b), "question "),
        (lambda a, b: graph_input(a, seed=3), "seed 3 vs 0"),
        (lambda a, b: graph_input(a, answer_kind="qa"), "answer_kind 'qa' vs 'math'"),
    ],
    ids=["question", "seed", "answer-kind"],
)
def test_a_state_the_context_contradicts_is_one_graph_error_before_any_call(tmp_path, state, says):
    """The nodes read the context: a differing state was silently ignored (the context's question answered)."""
    a, b = _two_items()
    graph = compiled(tmp_path)
    with pytest.raises(GraphError) as caught:
        asyncio.run(graph.pregel.ainvoke(state(a, b), context=graph_context(graph, a)))
    message = str(caught.value)
    assert "disagree" in message and says in message and "graph_context(" in message and "\n" not in message
    assert graph.hub.stats.calls == 0


def test_a_state_and_context_of_one_item_run_as_run_does(tmp_path):
    a, _ = _two_items()
    graph = compiled(tmp_path)
    out = asyncio.run(graph.pregel.ainvoke(graph_input(a, seed=2), context=graph_context(graph, a, seed=2)))
    assert out["answer"] == asyncio.run(graph.run(a, seed=2)).answer


def test_a_router_refuses_a_contradicting_state_and_takes_its_own_or_graph_inputs(tmp_path):
    from rolegraph.graphs.router import RouterSpec, Stage
    from rolegraph.graphs.router_runtime import CompiledRouter

    a, b = _two_items()
    router = CompiledRouter(RouterSpec(name="r", stages=[Stage(graph=ONE)]), compiled(tmp_path).hub)
    with pytest.raises(GraphError, match="disagree .*question"):
        asyncio.run(router.pregel.ainvoke(graph_input(b), context=graph_context(router, a)))
    own, state, _ = router.inputs_and_context(a)
    assert asyncio.run(router.pregel.ainvoke(own, context=state))["answer"] is not None
    assert asyncio.run(router.pregel.ainvoke(graph_input(a), context=graph_context(router, a)))["answer"] is not None
