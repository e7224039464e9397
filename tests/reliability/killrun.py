"""`rolegraph optimize` as a real process, SIGKILLed at chosen moments and resumed with `--resume`.

Shared by tests/reliability/test_kill_resume.py (a few kill points) and
benchmarks/reliability/kill_resume.py (many). Moments:
- `at:<seconds>`: a time after the (re)start;
- `rows:<n>`: once n calls have been paid for (stored), whatever the machine's speed;
- `checkpoint[:<n>]`: after n paid calls, while the process is inside a checkpoint write of run.sqlite
  (we hold SQLite's write lock on the store, so its checkpoint transaction waits in BEGIN IMMEDIATE,
  and we kill it there);
- `cache[:<n>]`: the same inside a response-cache write (the lock held on cache.sqlite).
Paid calls are the sim calls whose answers were stored: one cache row per distinct call. A resumed
process that paid again for a stored call would have to miss the cache for it, which the last
process's own paid count (its --json `paid_calls`) shows against the rows it added.
"""
from __future__ import annotations

import json
from contextlib import closing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

MODELS = "sim/llama-3.2-1b,sim/llama-3.2-3b,sim/llama-3.1-8b"
SEARCH_ARGS = ["optimize", "--task", "gsm", "--task-size", "80", "--models", MODELS, "--roles",
               "solver,verifier,fuser", "--max-nodes", "4", "--iterations", "3", "--samples", "2", "--batch", "4",
               "--validation-items", "4", "--test-items", "6", "--json"]
PROCESS_TIMEOUT_S = 300.0
POLL_S = 0.01
STALL_S = 0.6  # no new cache rows for this long while we hold the store's lock: the process waits on it
LOCK_WAIT_S = 60.0


def cache_rows(home: Path) -> int:
    path = home / "cache.sqlite"
    if not path.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)) as db:
            return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.OperationalError:  # created but no table yet
        return 0


def integrity(path: Path) -> str:
    with closing(sqlite3.connect(path, timeout=30)) as db:  # `with connect()` alone commits but never closes
        return db.execute("PRAGMA integrity_check").fetchone()[0]


@dataclass
class Outcome:
    summary: dict
    trace: str
    best_yaml: str
    paid_rows: int  # distinct calls paid for over all processes (cache rows)
    last_paid: int  # what the last (completing) process reported as paid
    last_new_rows: int  # cache rows the last process added
    kills: list[str] = field(default_factory=list)
    checkpoints_after_kill: list[tuple[int, str] | None] = field(default_factory=list)


class Search:
    """One search in its own ROLEGRAPH_HOME and run directory."""

    def __init__(self, base: Path, name: str):
        self.home = base / f"home-{name}"
        self.run_dir = base / f"run-{name}"
        self.cwd = base
        base.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "ROLEGRAPH_HOME": str(self.home), "PYTHONUNBUFFERED": "1"}
        self.env.pop("ROLEGRAPH_POOL", None)

    def _popen(self, args: list[str]) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "rolegraph", *args], cwd=self.cwd, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def start(self) -> subprocess.Popen:
        return self._popen([*SEARCH_ARGS, "--out", str(self.run_dir)])

    def resume(self) -> subprocess.Popen:
        return self._popen(["optimize", "--resume", str(self.run_dir), "--json"])

    def run_to_end(self, proc: subprocess.Popen) -> dict:
        out, err = proc.communicate(timeout=PROCESS_TIMEOUT_S)
        if proc.returncode != 0:
            raise AssertionError(f"exit {proc.returncode}: {err.decode()[-3000:]}")
        return json.loads(out.decode().strip().splitlines()[-1])

    def kill(self, proc: subprocess.Popen, moment: str) -> bool:
        """SIGKILL `proc` at `moment`; False if it finished first."""
        kind, _, arg = moment.partition(":")
        if kind == "at":
            deadline = time.monotonic() + float(arg)
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    return False
                time.sleep(POLL_S)
            return self._sigkill(proc)
        if not self._wait_rows(proc, int(arg or 1)):
            return False
        if kind == "rows":
            return self._sigkill(proc)
        target = self.run_dir / "run.sqlite" if kind == "checkpoint" else self.home / "cache.sqlite"
        return self._kill_inside_write(proc, target)

    def _wait_rows(self, proc: subprocess.Popen, rows: int) -> bool:
        """Wait until `rows` calls have been paid for (stored) in this search's home."""
        while cache_rows(self.home) < rows:
            if proc.poll() is not None:
                return False
            time.sleep(POLL_S)
        return True

    def _kill_inside_write(self, proc: subprocess.Popen, target: Path) -> bool:
        while not target.exists():
            if proc.poll() is not None:
                return False
            time.sleep(POLL_S)
        blocker = sqlite3.connect(target, timeout=LOCK_WAIT_S, isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")  # SQLite's write lock: its next write on `target` waits
            seen, since = cache_rows(self.home), time.monotonic()
            while time.monotonic() - since < STALL_S:  # wait until it has stopped, stuck in that write
                if proc.poll() is not None:
                    return False
                now = cache_rows(self.home) if target.name != "cache.sqlite" else seen
                if now != seen:
                    seen, since = now, time.monotonic()
                time.sleep(POLL_S)
            return self._sigkill(proc)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()

    @staticmethod
    def _sigkill(proc: subprocess.Popen) -> bool:
        if proc.poll() is not None:
            return False
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=PROCESS_TIMEOUT_S)
        return True

    def checkpoint(self) -> tuple[int, str] | None:
        """The run store's checkpoint, read the way a resume reads it (the store must open cleanly)."""
        from rolegraph.optimize.rundir import RunStore

        if not (self.run_dir / "run.sqlite").exists():
            return None
        assert integrity(self.run_dir / "run.sqlite") == "ok"
        store = RunStore.open(self.run_dir)
        try:
            store.config()
            point = store.checkpoint()
            store.records(), store.feedback(), store.graphs()
            return None if point is None else (point[0], point[1])
        finally:
            store.close()

    def outcome(self, summary: dict, rows_before_last: int, kills: list[str],
                checkpoints: list[tuple[int, str] | None]) -> Outcome:
        assert integrity(self.home / "cache.sqlite") == "ok"
        rows = cache_rows(self.home)
        return Outcome(summary=summary, trace=(self.run_dir / "trace.json").read_text(),
                       best_yaml=(self.run_dir / "best_graph.yaml").read_text(), paid_rows=rows,
                       last_paid=int(summary["paid_calls"]), last_new_rows=rows - rows_before_last, kills=kills,
                       checkpoints_after_kill=checkpoints)


def uninterrupted(base: Path) -> Outcome:
    search = Search(base, "full")
    summary = search.run_to_end(search.start())
    return search.outcome(summary, 0, [], [])


def interrupted(base: Path, name: str, moments: list[str]) -> Outcome:
    """Start, kill at each moment in turn (resuming after each kill), then let the last process finish."""
    search = Search(base, name)
    proc, rows_before = search.start(), 0
    kills, checkpoints = [], []
    for moment in moments:
        if not search.kill(proc, moment):
            break  # it finished first: it is the last process
        kills.append(moment)
        checkpoints.append(search.checkpoint())  # the store opens cleanly after every kill
        if (search.home / "cache.sqlite").exists():
            assert integrity(search.home / "cache.sqlite") == "ok"
        rows_before = cache_rows(search.home)
        proc = search.resume() if (search.run_dir / "run.sqlite").exists() else search.start()
    summary = search.run_to_end(proc)
    return search.outcome(summary, rows_before, kills, checkpoints)
