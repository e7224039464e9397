"""One process at a time in a run directory: a search or a resume holds it (`RunLock`), a second one is refused
with one line naming the holder's pid, and a holder killed with SIGKILL leaves no lock behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

import rolegraph.optimize.api as api
from rolegraph.errors import SearchError
from rolegraph.optimize.rundir import RunLock, RunStore

from .helpers import resume, run

HOLDER = """\
import sys, time
from rolegraph.optimize.rundir import RunLock
lock = RunLock.take(sys.argv[1])
print("held", flush=True)
time.sleep(600)
"""


def test_a_second_taker_is_refused_with_the_holders_pid_until_the_first_lets_go(tmp_path):
    first = RunLock.take(tmp_path)
    with pytest.raises(SearchError) as info:
        RunLock.take(tmp_path)
    assert str(info.value) == (
        f"run directory {tmp_path} is in use by another rolegraph process (pid {os.getpid()}): wait for it to end")
    first.release()
    with RunLock.take(tmp_path):
        pass
    RunLock.take(tmp_path).release()


def test_a_holder_killed_with_sigkill_leaves_no_stale_lock(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        with pytest.raises(SearchError, match=rf"in use by another rolegraph process \(pid {child.pid}\)"):
            RunLock.take(tmp_path)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    RunLock.take(tmp_path).release()  # the kernel dropped the dead holder's lock


def test_a_resume_of_a_run_in_use_is_refused_before_it_touches_the_store(pool, small_task, tmp_path):
    run(pool, tmp_path / "home", small_task, "random", out=tmp_path / "a")
    store = RunStore.open(tmp_path / "a")
    before = (store.checkpoint(), len(store.records()))
    store.close()
    with RunLock.take(tmp_path / "a"), pytest.raises(SearchError, match="is in use by another rolegraph process"):
        resume(pool, tmp_path / "home", tmp_path / "a", small_task)
    store = RunStore.open(tmp_path / "a")
    assert (store.checkpoint(), len(store.records())) == before
    store.close()
    assert resume(pool, tmp_path / "home", tmp_path / "a", small_task).run_dir == str(tmp_path / "a")  # free again


def test_a_new_search_holds_its_directory_while_it_runs(pool, small_task, tmp_path, monkeypatch):
    seen: list[str] = []
    real = api.run_search

    async def spying(ctx, optimizer, store, progress):
        try:
            RunLock.take(store.run_dir).release()
            seen.append("free")
        except SearchError as exc:
            seen.append(str(exc))
        return await real(ctx, optimizer, store, progress)

    monkeypatch.setattr(api, "run_search", spying)
    run(pool, tmp_path / "home", small_task, "random", out=tmp_path / "a")
    assert len(seen) == 1 and "is in use by another rolegraph process" in seen[0]
    RunLock.take(tmp_path / "a").release()  # and lets go when it ends


def test_a_resume_of_something_that_is_not_a_run_makes_no_lock_file(pool, small_task, tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(SearchError, match="not a search run directory"):
        resume(pool, tmp_path / "home", tmp_path / "plain", small_task)
    assert list((tmp_path / "plain").iterdir()) == []
