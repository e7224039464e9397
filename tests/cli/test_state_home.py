"""A state directory ($ROLEGRAPH_HOME) that cannot be used is the user's one-line error (exit 2), whether the
path is a file or a state file in it is not a database; nothing is overwritten."""
from __future__ import annotations

from pathlib import Path

import pytest

from rolegraph.errors import StateFileError
from rolegraph.models.cache import ResponseCache
from rolegraph.models.timings import CallTimings
from rolegraph.settings import Settings
from tests.cli.support import run_cli

GRAPH = Path(__file__).resolve().parents[2] / "examples" / "graphs" / "vote5.yaml"
NOT_A_DATABASE = "not a database, a user's notes\n"


def test_a_home_that_is_a_file_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.write_text(NOT_A_DATABASE)
    monkeypatch.setenv("ROLEGRAPH_HOME", str(home))
    code, _, err = run_cli(capsys, "run", GRAPH, "--task", "gsm", "--item", "0")
    assert code == 2
    assert "Traceback" not in err
    assert err.strip().splitlines() == [
        f"error: ROLEGRAPH_HOME={home} cannot be used as the state directory (a file is in the way)"
    ]
    assert home.read_text() == NOT_A_DATABASE


def test_a_cache_file_that_is_not_a_database_is_one_line_and_kept(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.mkdir()
    cache = home / "cache.sqlite"
    cache.write_text(NOT_A_DATABASE)
    monkeypatch.setenv("ROLEGRAPH_HOME", str(home))
    code, _, err = run_cli(capsys, "run", GRAPH, "--task", "gsm", "--item", "0")
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {cache}: cannot open the response cache"), err
    assert cache.read_text() == NOT_A_DATABASE


@pytest.mark.parametrize("opener", [ResponseCache, CallTimings], ids=["cache", "timings"])
def test_state_files_that_are_not_databases_raise_the_user_error(tmp_path, opener):
    path = tmp_path / "state.sqlite"
    path.write_text(NOT_A_DATABASE)
    with pytest.raises(StateFileError, match="state.sqlite: cannot open"):
        opener(path)


def test_ensure_home_creates_a_missing_directory(tmp_path):
    home = tmp_path / "a" / "b"
    assert Settings(home=home).ensure_home() == home and home.is_dir()
