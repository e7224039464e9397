"""Reading a run directory another process is writing: what tests that stop a search mid-run wait on."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

CAPPED_SEARCH = ["optimize", "--task", "gsm", "--iterations", "3", "--task-size", "80", "--samples", "2", "--batch",
                 "4", "--validation-items", "4", "--test-items", "6", "--max-dollars", "0.002"]
"""Agent-REINFORCE with a dollar cap the sim pool's prices reach during the pilot: it stops with exit 2."""


def checkpointed_iteration(run_dir: Path) -> int | None:
    """The run's last checkpointed iteration, or None before it has one (or while its store is being created)."""
    if not (run_dir / "run.sqlite").is_file():
        return None
    db = sqlite3.connect(run_dir / "run.sqlite", timeout=5)
    try:
        row = db.execute("SELECT iteration FROM checkpoint WHERE id = 1").fetchone()
    except sqlite3.OperationalError:  # the store is being created
        return None
    finally:
        db.close()
    return row[0] if row else None


def forget_cap_stop(run_dir: Path) -> None:
    """Make a capped run's store look like one from before the dollar cap's stop was recorded (no `stop` row)."""
    db = sqlite3.connect(run_dir / "run.sqlite", timeout=5)
    try:
        with db:
            assert db.execute("DELETE FROM meta WHERE key = 'stop'").rowcount == 1  # the command had recorded it
    finally:
        db.close()


def signal_after_checkpoint(argv: list[str], run_dir: Path, home: Path, timeout_s: float, signum: int = signal.SIGTERM
                            ) -> tuple[int, str, str]:
    """Run `python -m rolegraph *argv` (its search writing to `run_dir`), send `signum` once it has checkpointed
    an iteration (inside the search), and return its exit code, stdout and stderr. A real process, a real signal."""
    env = os.environ | {"ROLEGRAPH_HOME": str(home)}
    child = subprocess.Popen([sys.executable, "-m", "rolegraph", *argv], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + timeout_s
        while (checkpointed_iteration(run_dir) or 0) < 1:  # inside the search: past its first iteration
            assert child.poll() is None and time.monotonic() < deadline, child.communicate()[1][-2000:]
            time.sleep(0.1)
        child.send_signal(signum)
        out, err = child.communicate(timeout=timeout_s)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return child.returncode, out, err
