"""A search's run directory at start-up: the default one is unique even for two searches started in the same
second (it is made with an atomic mkdir), and a search refused at start-up leaves no run directory behind (an
unusable state directory is found before the run directory is made)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from rolegraph.errors import StateFileError
from rolegraph.optimize import rundir
from rolegraph.optimize.run_dirs import default_run_dir, new_run_dir
from rolegraph.optimize.rundir import RunStore

from .helpers import run

STAMP = "20250101-000000"
MAKER = """\
import sys, time
from pathlib import Path
time.strftime = lambda fmt: "20250101-000000"  # every process in the same second
from rolegraph.optimize.run_dirs import default_run_dir
sys.stdin.readline()  # all start together
print(default_run_dir("gsm", "agent-reinforce", Path(sys.argv[1])).name, flush=True)
"""


def test_two_default_run_dirs_in_the_same_second_are_two_new_empty_directories(tmp_path, monkeypatch):
    monkeypatch.setattr(rundir.time, "strftime", lambda fmt: STAMP)
    first = default_run_dir("gsm", "agent-reinforce", tmp_path)
    second = default_run_dir("gsm", "agent-reinforce", tmp_path)
    assert first == tmp_path / f"{STAMP}-gsm-agent-reinforce"
    assert second == tmp_path / f"{STAMP}-gsm-agent-reinforce-2"
    assert first.is_dir() and second.is_dir() and not any(first.iterdir()) and not any(second.iterdir())
    RunStore.create(second, {"x": 1}).close()  # an empty directory made for it is a fine place for a run


def test_processes_starting_at_once_each_get_their_own(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", MAKER, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _ in range(4)]
    names = [p.communicate("go\n", timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(names) == sorted(p.name for p in tmp_path.iterdir()) and len(set(names)) == 4


def test_a_default_run_dir_is_removed_again_when_the_command_fails_before_writing_to_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError), new_run_dir(None, "gsm", "random") as made:
        assert made.is_dir()
        raise RuntimeError("refused at start-up")
    assert not made.exists()
    with pytest.raises(RuntimeError), new_run_dir(None, "gsm", "random") as kept:
        (kept / "run.sqlite").write_text("a search's store")
        raise RuntimeError("stopped later")
    assert (kept / "run.sqlite").is_file()  # the search's files stay
    given = tmp_path / "mine"
    given.mkdir()
    with pytest.raises(RuntimeError), new_run_dir(given, "gsm", "random") as out:
        raise RuntimeError("refused")
    assert out == given and given.is_dir()  # the user's own --out is not removed


def test_an_unusable_state_directory_is_refused_before_the_run_directory_is_made(pool, small_task, tmp_path):
    home = tmp_path / "home"
    home.write_text("a file in the way\n")
    with pytest.raises(StateFileError, match="cannot be used as the state directory"):
        run(pool, home, small_task, "random", out=tmp_path / "dd")
    assert not (tmp_path / "dd").exists()
    result = run(pool, tmp_path / "good-home", small_task, "random", out=tmp_path / "dd")  # the corrected retry
    assert result.run_dir == str(tmp_path / "dd")
