"""pyproject.toml states the ranges the project is tested with: every runtime dependency (and every
installed extra) has an upper bound, and the versions this suite runs against sit inside the ranges."""
from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
UNBOUNDED_OK = frozenset({"xllamacpp"})  # calendar versions: no major release to stop before


def _requirements() -> list[Requirement]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        reqs += [Requirement(r) for r in extra]
    return reqs


def test_every_dependency_has_an_upper_bound():
    unbounded = [str(r) for r in _requirements()
                 if r.name not in UNBOUNDED_OK and not any(s.operator in ("<", "<=", "~=", "==") for s in r.specifier)]
    assert unbounded == []


@pytest.mark.parametrize("req", _requirements(), ids=lambda r: r.name)
def test_the_installed_version_is_inside_the_stated_range(req):
    try:
        version = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        pytest.skip(f"{req.name} is not installed here (an optional extra)")
    assert req.specifier.contains(version, prereleases=True), f"{req.name} {version} outside {req.specifier}"


def test_tenacity_and_typer_are_runtime_requirements():
    names = {r.name for r in (Requirement(x) for x in tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"])}
    assert {"tenacity", "typer", "langgraph", "openai"} <= names
