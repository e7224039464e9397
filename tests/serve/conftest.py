"""`rolegraph serve`'s app on loopback, in a uvicorn thread (its lifespan on: the graph opens there)."""
from __future__ import annotations

import pytest

from rolegraph.agents.registry import RoleRegistry
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.serve.answerer import GraphAnswerer
from rolegraph.serve.app import ServeOptions, create_app
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread

UPSTREAM = "llamacpp/smollm2-135m"
MAX_TOKENS = 16
CHAT_PROMPT = "Role: chat.\nYou are a helpful assistant. Answer briefly."
"""A short system prompt: on two shared cores SmolLM2 reads ~10 prompt tokens/s, so the built-in
roles' long prompts would make every request here take half a minute."""


def chat_roles() -> RoleRegistry:
    roles = RoleRegistry.default()
    roles.register("chat", CHAT_PROMPT, answers=False, max_tokens=MAX_TOKENS, temperature=0.0)
    return roles


def one_node_graph(model: str, name: str = "smol", role: str = "chat") -> GraphSpec:
    return GraphSpec.model_validate({"name": name, "nodes": [
        {"id": "answer", "role": role, "model": model, "params": {"max_tokens": MAX_TOKENS, "temperature": 0.0}}]})


def serve(spec: GraphSpec, pool: ModelPool, home, **options) -> ServerThread:
    from contextlib import asynccontextmanager

    answerer = GraphAnswerer(spec, ModelHub(pool, Settings(home=home, cache=False)), roles=chat_roles())

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
