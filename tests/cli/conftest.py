"""Fixtures shared by the CLI tests. None is autouse: each applies only to the tests that name it."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def searched_home(searched, monkeypatch) -> Path:
    """ROLEGRAPH_HOME set, for one test, to the home of the requesting module's module-scoped `searched` search
    ((base directory, run directory); the home is BASE/home), so `rolegraph` commands in it find that search's
    store and cache; ROLEGRAPH_POOL unset. Only for modules that define `searched` (`eval --add-to`'s tests)."""
    monkeypatch.setenv("ROLEGRAPH_HOME", str(searched[0] / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    return searched[0] / "home"
