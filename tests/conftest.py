"""Shared fixtures: every test gets its own ROLEGRAPH_HOME so nothing touches ~ or the repo."""
from __future__ import annotations

import pytest

from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    home = tmp_path / "rolegraph-home"
    monkeypatch.setenv("ROLEGRAPH_HOME", str(home))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    return home


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path / "rolegraph-home")


@pytest.fixture
def sim_hub(settings) -> ModelHub:
    return ModelHub(ModelPool.builtin(), settings)


@pytest.fixture(scope="session")
def llamacpp():
    """llama.cpp's own OpenAI-compatible server (xllamacpp, in-process) with SmolLM2-135M, 2,048-token context.

    A server nobody here wrote: the real-endpoint tests run against it. Skipped only where the
    `local` extra or the GGUF is missing (CI installs both, README command 2)."""
    from rolegraph.errors import EngineMissingError
    from rolegraph.models.llamacpp_server import LlamaCppServer

    try:
        # one thread: with two, every op waits at a barrier for both threads to be scheduled, and on a
        # shared, oversubscribed machine (load 10 on 2 cores) decoding fell from ~30 to ~1.5 tokens/s
        server = LlamaCppServer(threads=1)
    except EngineMissingError as exc:
        pytest.skip(str(exc))
    yield server
    server.close()
