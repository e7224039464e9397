"""`evaluate` refuses, before any call, what would give a meaningless score: no items (accuracy 0 with the
interval (0, 1)), or a graph (or a router stage) whose output never answers (0 on every item), with the line
`rolegraph eval` prints for it."""
from __future__ import annotations

import pytest

from rolegraph.errors import GraphError, TaskError
from rolegraph.evaluate.runner import evaluate_sync
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.router import RouterSpec, Stage
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.tasks.registry import get_task

SILENT = "output node 'a': role 'planner' never answers, so every item would score 0"


@pytest.fixture
def hub(settings):
    return ModelHub(ModelPool.builtin(), settings)


@pytest.fixture(scope="module")
def task():
    return get_task("gsm", size=20)


def test_no_items_is_refused(hub, task):
    solver = Graph("s").node("a", "solver", "sim/llama-3.2-3b").build()
    with pytest.raises(TaskError, match="no items to evaluate"):
        evaluate_sync(solver, task, [], hub=hub, progress=False)
    assert hub.stats.calls == 0


def test_a_graph_whose_output_never_answers_is_refused(hub, task):
    planner = Graph("p").node("a", "planner", "sim/llama-3.2-3b").build()
    with pytest.raises(GraphError, match=SILENT):
        evaluate_sync(planner, task, task.items("test", n=3), hub=hub, progress=False)
    assert hub.stats.calls == 0


def test_a_router_stage_whose_output_never_answers_is_refused(hub, task):
    solver = Graph("s").node("a", "solver", "sim/llama-3.2-3b").build()
    planner = Graph("p").node("a", "planner", "sim/llama-3.2-3b").build()
    router = RouterSpec(name="r", stages=[Stage(graph=solver), Stage(graph=planner)])
    with pytest.raises(GraphError, match=SILENT):
        evaluate_sync(router, task, task.items("test", n=3), hub=hub, progress=False)


def test_a_role_registered_as_answering_nothing_is_refused_too(hub, task):
    from rolegraph.agents.registry import RoleRegistry

    roles = RoleRegistry.default()
    roles.register("notes", "Write notes on the question.", answers=False)
    spec = Graph("n").node("a", "notes", "sim/llama-3.2-3b").build(roles=roles.names())
    with pytest.raises(GraphError, match="role 'notes' never answers"):
        evaluate_sync(spec, task, task.items("test", n=3), hub=hub, progress=False, roles=roles)


def test_evaluate_sync_is_typed_to_take_a_router_as_evaluate_does():
    import inspect

    from rolegraph.evaluate.runner import evaluate

    spec = inspect.signature(evaluate_sync).parameters["spec"].annotation
    assert spec == inspect.signature(evaluate).parameters["spec"].annotation == "GraphSpec | RouterSpec"
