"""`Settings` coerces a str home to a Path and refuses a negative latency scale with one line."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from rolegraph.errors import RolegraphError
from rolegraph.settings import Settings, SettingsError


def test_a_str_home_becomes_a_path(tmp_path):
    settings = Settings(home=str(tmp_path / "state"))  # type: ignore[arg-type]
    assert isinstance(settings.home, Path)
    assert settings.cache_path == tmp_path / "state" / "cache.sqlite"
    assert settings.ensure_home().is_dir()


@pytest.mark.parametrize("scale", [-0.5, math.nan])
def test_a_negative_latency_scale_is_refused(tmp_path, scale):
    with pytest.raises(SettingsError) as info:
        Settings(home=tmp_path, latency_scale=scale)
    assert isinstance(info.value, RolegraphError) and "latency_scale must be >= 0" in str(info.value)


def test_from_env_with_overrides_is_what_the_docs_show(tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "h"))
    settings = Settings.from_env(coalesce=False, allow_weak_sandbox=True)
    assert (settings.home, settings.coalesce, settings.allow_weak_sandbox) == (tmp_path / "h", False, True)
    with pytest.raises(SettingsError):
        Settings.from_env(latency_scale=-1.0)


def test_no_doc_calls_settings_without_home():
    """`Settings(coalesce=False)` fails (home is required): the docs must show `Settings.from_env(...)`."""
    import re

    root = Path(__file__).resolve().parents[2]
    pages = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    call = re.compile(r"\bSettings\((?!home\b|\))[^)]*\)")
    bad = [f"{p.name}: {m.group(0)}" for p in pages for m in call.finditer(p.read_text())]
    assert bad == []
