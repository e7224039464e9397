"""Shared fixtures: every test gets its own ROLEGRAPH_HOME so nothing touches ~ or the repo."""
from __future__ import annotations

import compileall
import shutil
from pathlib import Path

import pytest

from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from tests.module_order_support import load_seconds, longest_modules_first

ROOT = Path(__file__).resolve().parents[1]
COMPILED_PACKAGES = ("rolegraph", "benchmarks")
"""Byte-compiled once before the workers start. The editable install leaves them as source, and where Python is
told not to write bytecode (PYTHONDONTWRITEBYTECODE, as on this project's machines) every `rolegraph` subprocess a
test starts compiled each module it imported again: about 0.3-0.6 s of a sim `rolegraph run`'s ~3.2 s. pip
compiles the installed packages the same way."""


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist, hand modules out in collection order, which `pytest_collection_modifyitems` makes longest first
    (xdist's own order, most tests first, put the one-test real-model modules last: an idle worker at the end).
    In the controlling process only (not once per worker), byte-compile the project's packages."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
    if not hasattr(config, "workerinput"):
        for package in COMPILED_PACKAGES:
            try:
                compileall.compile_dir(ROOT / package, quiet=2)
            except OSError:  # a read-only checkout: the tests run as before, only slower
                pass


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On xdist workers only (both sort alike, so their collections agree): whole modules, longest known first."""
    if hasattr(config, "workerinput"):
        items[:] = longest_modules_first(items, load_seconds())


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


TINY_SEARCH = ("optimize", "--task", "gsm", "--json", "--task-size", "160", "--samples", "2", "--batch", "4",
               "--validation-items", "4", "--test-items", "20", "--iterations", "2", "--route-items", "40",
               "--budget", "42")
"""The smallest search that ends with paired outcomes on fit and test items, so `route fit` has a front."""


@pytest.fixture(scope="session")
def tiny_search(tmp_path_factory) -> Path:
    """One tiny finished search through the CLI, made once per test process: BASE/run and its own home BASE/home.
    Never written to: a module that needs one takes `copy_search(tiny_search, ...)` (five modules ran this same
    search each)."""
    from tests.cli.support import cli_in_home

    base = tmp_path_factory.mktemp("tiny-search")
    cli_in_home(base / "home", *TINY_SEARCH, "--out", base / "run")
    return base


def copy_search(source: Path, base: Path) -> Path:
    """A copy of `tiny_search`'s run and home under `base` (returned), for a module to read and write."""
    for part in ("run", "home"):
        shutil.copytree(source / part, base / part)
    return base
