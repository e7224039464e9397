"""`optimize --resume M` while another process works in M: one line, exit 2, naming that process; nothing run."""
from __future__ import annotations

import subprocess
import sys

from rolegraph.optimize.rundir import RunStore

from .support import cli

TINY = ["--task", "gsm", "--task-size", "40", "--optimizer", "random", "--iterations", "1", "--samples", "2",
        "--batch", "2", "--validation-items", "2", "--test-items", "2"]
HOLDER = """\
import sys, time
from rolegraph.optimize.runlock import RunLock
lock = RunLock.take(sys.argv[1])
print("held", flush=True)
time.sleep(600)
"""


def test_a_second_resume_of_a_run_in_use_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    code, out, err = cli(["optimize", *TINY, "--out", tmp_path / "m"], capsys)
    assert code == 0, err
    store = RunStore.open(tmp_path / "m")
    records = len(store.records())
    store.close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "m")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code, out, err = cli(["optimize", "--resume", tmp_path / "m"], capsys)
    finally:
        holder.kill()
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"run directory {tmp_path / 'm'} is in use by another rolegraph process (pid {holder.pid})" in err
    store = RunStore.open(tmp_path / "m")
    assert len(store.records()) == records
    store.close()
    code, out, err = cli(["optimize", "--resume", tmp_path / "m"], capsys)  # the holder is gone: it resumes
    assert code == 0, err
