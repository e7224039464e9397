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
