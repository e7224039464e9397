"""`rolegraph serve`'s app on loopback, in a uvicorn thread (its lifespan on: the graph opens there)."""
from __future__ import annotations

import pytest

from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.serve.answerer import GraphAnswerer
from rolegraph.serve.app import ServeOptions, create_app
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread

UPSTREAM = "llamacpp/smollm2-135m"
MAX_TOKENS = 48


def one_node_graph(model: str, name: str = "smol") -> GraphSpec:
    return GraphSpec.model_validate({"name": name, "nodes": [
        {"id": "answer", "role": "solver", "model": model, "params": {"max_tokens": MAX_TOKENS, "temperature": 0.0}}]})


def serve(spec: GraphSpec, pool: ModelPool, home, **options) -> ServerThread:
    from contextlib import asynccontextmanager

    answerer = GraphAnswerer(spec, ModelHub(pool, Settings(home=home, cache=False)))

    @asynccontextmanager
    async def lifespan(_app):
        async with answerer:
            yield

    app = create_app(answerer, ServeOptions(**options), lifespan=lifespan)
    app.state.answerer = answerer
    return ServerThread(app, lifespan="on")


@pytest.fixture(scope="module")
def upstream_pool(llamacpp) -> ModelPool:
    return ModelPool([*ModelPool.builtin(), llamacpp.spec(UPSTREAM)])


@pytest.fixture(scope="module")
def served(upstream_pool, tmp_path_factory):
    """A one-node graph on llama.cpp's server (SmolLM2-135M) as the upstream, served by rolegraph."""
    with serve(one_node_graph(UPSTREAM), upstream_pool, tmp_path_factory.mktemp("home")) as server:
        yield server
