"""Reports render search runs: the search tests' pool and task fixtures are shared, and a run its dollar cap
stopped (the cap-stop report and resume-hint tests)."""
import shutil
from pathlib import Path

import pytest

from tests.optimize.conftest import pool, settings, small_task  # noqa: F401
from tests.run_dir_support import CAPPED_SEARCH


@pytest.fixture(scope="module")
def capped_run(tmp_path_factory) -> Path:
    """A search its --max-dollars stopped (exit 2), built once per module."""
    base = tmp_path_factory.mktemp("capped")
    mp = pytest.MonkeyPatch()
    mp.setenv("ROLEGRAPH_HOME", str(base / "home"))
    mp.delenv("ROLEGRAPH_POOL", raising=False)
    try:
        from rolegraph.cli import main

        with pytest.raises(SystemExit) as exc:
            main([*CAPPED_SEARCH, "--out", str(base / "run")])
        assert exc.value.code == 2  # the cap stopped it, resumably (and `optimize` recorded the stop)
    finally:
        mp.undo()
    return base / "run"


@pytest.fixture
def run_copy(capped_run, tmp_path, monkeypatch) -> Path:
    """A test's own copy of the capped run, with a home of its own."""
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    return Path(shutil.copytree(capped_run, tmp_path / "run"))
