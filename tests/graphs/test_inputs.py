"""The input state of a compiled graph invoked directly (an app calling `.pregel`): a wrong shape is rolegraph's
one-line GraphError, raised through LangGraph, not a KeyError or AttributeError from inside the entry task."""
import asyncio

import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.runtime import compile_graph
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
