"""A run's cgroup is cleaned up within CLEANUP_S and never fails the run: `kill_all` kills what the cgroup holds
until it is empty, `remove` keeps killing stragglers between tries, and both give up quietly when time is out.

A plain directory stands in for the cgroup (its `cgroup.procs` a file the test writes), so these run anywhere:
the kernel's cgroupfs is exercised by the sandbox tests where it is writable."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from rolegraph.tools import isolation
from rolegraph.tools.isolation import Cgroup

SHORT_S = 0.3  # CLEANUP_S for these tests
MARGIN_S = 3.0  # what a loaded machine may add to it


@pytest.fixture
def short_cleanup(monkeypatch):
    monkeypatch.setattr(isolation, "CLEANUP_S", SHORT_S)


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_kill_all_kills_every_process_listed(tmp_path, short_cleanup):
    procs = [_sleeper(), _sleeper()]
    try:
        (tmp_path / "cgroup.procs").write_text("\n".join(str(p.pid) for p in procs) + "\n")
        started = time.monotonic()
        Cgroup(tmp_path).kill_all()  # the file never empties (no kernel here): it gives up after CLEANUP_S
        took = time.monotonic() - started
        assert [p.wait(timeout=10) for p in procs] == [-9, -9]
        assert SHORT_S <= took < SHORT_S + MARGIN_S
    finally:
        for p in procs:
            p.kill()


def test_kill_all_returns_at_once_when_the_cgroup_is_empty(tmp_path, monkeypatch):
    monkeypatch.setattr(isolation, "CLEANUP_S", 30.0)
    (tmp_path / "cgroup.procs").write_text("")
    started = time.monotonic()
    Cgroup(tmp_path).kill_all()
    assert time.monotonic() - started < MARGIN_S


def test_remove_gives_up_quietly_on_a_cgroup_it_cannot_remove(tmp_path, short_cleanup):
    group = tmp_path / "stuck"
    group.mkdir()
    (group / "cgroup.procs").write_text("")  # a plain directory with a file in it: rmdir keeps failing
    started = time.monotonic()
    Cgroup(group).remove()  # no exception: cleanup never fails a run
    assert group.is_dir()
    assert SHORT_S <= time.monotonic() - started < SHORT_S + MARGIN_S


def test_remove_removes_an_empty_cgroup_and_a_missing_one_is_fine(tmp_path, monkeypatch):
    monkeypatch.setattr(isolation, "CLEANUP_S", 30.0)
    group = tmp_path / "done"
    group.mkdir()
    started = time.monotonic()
    Cgroup(group).remove()
    assert not group.exists()
    Cgroup(group).remove()  # already gone
    assert time.monotonic() - started < MARGIN_S
