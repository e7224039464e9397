"""Reports render search runs: the search tests' pool and task fixtures are shared, and a run its dollar cap
stopped (the cap-stop report and resume-hint tests)."""
import shutil
from pathlib import Path

import pytest

from tests.cli.support import cli_in_home
from tests.optimize.conftest import pool, settings, small_task  # noqa: F401
from tests.run_dir_support import CAPPED_SEARCH


@pytest.fixture(scope="module")
def capped_run(tmp_path_factory) -> Path:
    """A search its --max-dollars stopped (exit 2), built once per module."""
    base = tmp_path_factory.mktemp("capped")
    # exit 2: the cap stopped it, resumably (and `optimize` recorded the stop)
    cli_in_home(base / "home", *CAPPED_SEARCH, "--out", base / "run", code=2)
    return base / "run"


@pytest.fixture
def run_copy(capped_run, tmp_path, monkeypatch) -> Path:
    """A test's own copy of the capped run, with a home of its own."""
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    return Path(shutil.copytree(capped_run, tmp_path / "run"))
