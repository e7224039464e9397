"""Shared fixtures for the tools tests: one Wikipedia index per session (building it takes seconds)."""
from __future__ import annotations

from pathlib import Path

import pytest

from rolegraph.settings import Settings
from rolegraph.tools.local_search import LocalSearch


@pytest.fixture(scope="session")
def wiki_settings(tmp_path_factory) -> Settings:
    """Settings whose index_dir holds the built wiki index."""
    settings = Settings(home=tmp_path_factory.mktemp("rolegraph-home"))
    LocalSearch.wikipedia(settings.index_dir).count()  # builds it
    return settings


@pytest.fixture(scope="session")
def wiki(wiki_settings) -> LocalSearch:
    return LocalSearch.wikipedia(Path(wiki_settings.index_dir))
