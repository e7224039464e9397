"""Shared fixtures: the built-in pool, a hub with a temporary home, a small seeded gsm task."""
from __future__ import annotations

from pathlib import Path

import pytest

from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

SIM_MODELS = ("sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b", "sim/llama-3.1-70b")
SMALL_TASK_SIZE = 80


@pytest.fixture(scope="session")
def pool() -> ModelPool:
    return ModelPool.builtin()


@pytest.fixture(scope="session")
def small_task():
    from rolegraph.tasks.registry import get_task

    return get_task("gsm", size=SMALL_TASK_SIZE)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")

