"""A run's cgroup is cleaned up within CLEANUP_S and never fails the run: `kill_all` kills what the cgroup holds
until it is empty, `remove` keeps killing stragglers between tries, and both give up quietly when time is out.

A plain directory stands in for the cgroup (its `cgroup.procs` a file the test writes), so these run anywhere:
the kernel's cgroupfs is exercised by the sandbox tests where it is writable. How long cleanup took is not asserted
(timing goals live in benchmarks/): a spy on the polling loop's `stop_after_delay` shows the deadline it was given
(the patched CLEANUP_S) and whether it ran out of it or returned at once; a cleanup that never gives up fails at
HANG_GUARD_S."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rolegraph.tools import isolation
from rolegraph.tools.isolation import Cgroup
from tests.stop_spy_support import StopSpy, spy_on_stop_after_delay

SHORT_S = 0.3  # CLEANUP_S for the tests that run out of it
LONG_S = 30.0  # CLEANUP_S for the tests that must not wait for it
HANG_GUARD_S = 60
pytestmark = pytest.mark.timeout(HANG_GUARD_S)


@pytest.fixture
def short_cleanup(monkeypatch) -> StopSpy:
    monkeypatch.setattr(isolation, "CLEANUP_S", SHORT_S)
    return spy_on_stop_after_delay(monkeypatch, isolation)


@pytest.fixture
def long_cleanup(monkeypatch) -> StopSpy:
    monkeypatch.setattr(isolation, "CLEANUP_S", LONG_S)
    return spy_on_stop_after_delay(monkeypatch, isolation)


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_kill_all_kills_every_process_listed(tmp_path, short_cleanup):
    procs = [_sleeper(), _sleeper()]
    try:
        (tmp_path / "cgroup.procs").write_text("\n".join(str(p.pid) for p in procs) + "\n")
        Cgroup(tmp_path).kill_all()  # the file never empties (no kernel here): it gives up after CLEANUP_S
        assert [p.wait(timeout=10) for p in procs] == [-9, -9]
        assert short_cleanup.delays == [SHORT_S]
        assert short_cleanup.stops[0].ran_out  # it kept killing until CLEANUP_S was out, then gave up
    finally:
        for p in procs:
            p.kill()


def test_kill_all_returns_at_once_when_the_cgroup_is_empty(tmp_path, long_cleanup):
    (tmp_path / "cgroup.procs").write_text("")
    Cgroup(tmp_path).kill_all()
    assert long_cleanup.delays == [LONG_S]
    assert long_cleanup.stops[0].asked == 0  # the first round found it empty: no second round, no waiting


def test_remove_gives_up_quietly_on_a_cgroup_it_cannot_remove(tmp_path, short_cleanup):
    group = tmp_path / "stuck"
    group.mkdir()
    (group / "cgroup.procs").write_text("")  # a plain directory with a file in it: rmdir keeps failing
    Cgroup(group).remove()  # no exception: cleanup never fails a run
    assert group.is_dir()
    removing, *killing = short_cleanup.stops  # remove's own loop, then one kill_all per failed try
    assert removing.max_delay == SHORT_S and removing.ran_out
    assert killing and {stop.max_delay for stop in killing} == {SHORT_S}


def test_remove_removes_an_empty_cgroup_and_a_missing_one_is_fine(tmp_path, long_cleanup):
    group = tmp_path / "done"
    group.mkdir()
    Cgroup(group).remove()
    assert not group.exists()
    Cgroup(group).remove()  # already gone
    assert long_cleanup.delays == [LONG_S, LONG_S]
    assert [stop.asked for stop in long_cleanup.stops] == [0, 0]  # each returned on its first try
