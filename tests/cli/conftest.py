"""Fixtures shared by the CLI tests. None is autouse here: a module makes one its own autouse fixture when every
one of its tests needs it."""
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


@pytest.fixture
def fresh_home(tmp_path, monkeypatch) -> Path:
    """ROLEGRAPH_HOME set to a new TMP/home, ROLEGRAPH_POOL unset and the working directory TMP, so a command's
    relative paths and default run directories land in the test's own directory."""
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"
