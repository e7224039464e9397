"""`optimize --out D` while another rolegraph process holds D (a search still running there): one line naming
that process, exit 2, not "already holds a search run: resume it" (a resume that would be refused as well)."""
from __future__ import annotations

import subprocess
import sys

from rolegraph.optimize.rundir import STORE_NAME, RunStore

from .support import cli

TINY = ["--task", "gsm", "--task-size", "40", "--optimizer", "random", "--iterations", "1", "--samples", "2",
        "--batch", "2", "--validation-items", "2", "--test-items", "2"]
HOLDER = """\
import sys, time
from rolegraph.optimize.rundir import RunLock, RunStore
RunStore.create(sys.argv[1], {"x": 1}).close()
lock = RunLock.take(sys.argv[1])  # as a running search holds its directory
print("held", flush=True)
time.sleep(600)
"""


def test_a_second_out_into_a_directory_in_use_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    run_dir = tmp_path / "d"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(run_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code, out, err = cli(["optimize", *TINY, "--out", run_dir], capsys)
    finally:
        holder.kill()
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"run directory {run_dir} is in use by another rolegraph process (pid {holder.pid})" in err
    assert "resume it" not in err
    store = RunStore.open(run_dir)  # the holder's store, untouched
    assert store.config(check_inputs=False) == {"x": 1} and (run_dir / STORE_NAME).is_file()
    store.close()
