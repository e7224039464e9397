"""Ctrl-C: one line on stderr saying what was kept, exit code 130, never a silent exit.

Real subprocesses and a real SIGINT: the path that matters goes through asyncio.run's SIGINT handler
(it cancels the main task) and typer's own KeyboardInterrupt -> Exit(130), which in-process calls
that raise KeyboardInterrupt by hand do not exercise.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rolegraph.cli import INTERRUPT_EXIT_CODE, main
from rolegraph.cli.interrupt import eval_interrupted, search_interrupted

TINY = ["--task-size", "80", "--samples", "2", "--batch", "4", "--validation-items", "4", "--test-items", "6"]
WAIT_S = 240
POLL_S = 0.05
SMALL_GRAPH = "name: small\nnodes:\n  - {id: out, role: solver, model: sim/llama-3.2-1b}\nedges: []\n"
WIDE_GRAPH = (
    "name: wide\nnodes:\n"
    + "".join(f"  - {{id: n{k}, role: solver, model: sim/llama-3.2-3b}}\n" for k in range(4))
    + "  - {id: out, role: fuser, model: sim/llama-3.1-8b}\nedges: ["
    + ", ".join(f"[n{k}, out]" for k in range(4))
    + "]\n"
)
EVAL_ITEMS = "3000"  # enough that the second graph is still running when the first is stored


def _reset_sigint() -> None:
    """A child started from a non-interactive shell's background job inherits SIGINT ignored: undo that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args: list[str], home: Path, cwd: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "ROLEGRAPH_POOL")}
    env["ROLEGRAPH_HOME"] = str(home)
    return subprocess.Popen(
        [sys.executable, "-m", "rolegraph", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_reset_sigint,
    )


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return -1
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            row = con.execute(sql).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return -1
    return -1 if row is None or row[0] is None else int(row[0])


def _interrupt_when(proc: subprocess.Popen, ready) -> tuple[int, str, str]:
    deadline = time.monotonic() + WAIT_S
    while not ready():
        assert proc.poll() is None, f"finished before the interrupt: {proc.communicate()}"
        assert time.monotonic() < deadline, "never reached the point to interrupt"
        time.sleep(POLL_S)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=WAIT_S)
    return proc.returncode, out, err


def test_an_interrupted_search_says_where_it_is_saved_renders_its_report_and_resumes(tmp_path):
    run_dir = tmp_path / "s"
    proc = _start(["optimize", "--task", "gsm", "--iterations", "200", "--seed", "5", *TINY, "--out", "s"],
                  tmp_path / "home", tmp_path)
    store = run_dir / "run.sqlite"
    code, out, err = _interrupt_when(proc, lambda: _count(store, "SELECT iteration FROM checkpoint") >= 1)
    assert code == INTERRUPT_EXIT_CODE
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("interrupted: the search is saved up to its last checkpoint (iteration ")
    assert lines[0].endswith("continue with: rolegraph optimize --resume s")
    assert "Traceback" not in err and out == ""
    assert (run_dir / "report.md").is_file() and (run_dir / "trace.json").is_file()  # rendered from the store
    iteration = int(lines[0].split("(iteration ", 1)[1].split(";", 1)[0])
    assert iteration == _count(store, "SELECT iteration FROM checkpoint")  # the checkpoint it names
    # the resumed search, interrupted in turn, says the same of its own later checkpoint
    proc = _start(["optimize", "--resume", "s"], tmp_path / "home", tmp_path)
    code, out, err = _interrupt_when(proc, lambda: _count(store, "SELECT iteration FROM checkpoint") > iteration)
    assert code == INTERRUPT_EXIT_CODE and err.count("\n") == 1, err
    assert err.startswith("interrupted: the search is saved up to its last checkpoint (iteration ")
    assert int(err.split("(iteration ", 1)[1].split(";", 1)[0]) > iteration


def test_an_interrupted_demo_names_the_router_step_and_its_two_commands_make_the_router(tmp_path):
    """The demo fits its router.yaml only after its search: `optimize --resume` alone never writes it, so the
    hint names `route fit` too; following the hint as printed gives the file the demo promises."""
    run_dir = tmp_path / "d"
    proc = _start(["demo", "--iterations", "30", *TINY, "--out", "d"], tmp_path / "home", tmp_path)
    code, _, err = _interrupt_when(proc, lambda: _count(run_dir / "run.sqlite", "SELECT iteration FROM checkpoint") >= 1)
    assert code == INTERRUPT_EXIT_CODE and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].endswith("continue with: rolegraph optimize --resume d, then fit the demo's router with: "
                             "rolegraph route fit d")
    assert not (run_dir / "router.yaml").exists()
    for argv in (["optimize", "--resume", "d"], ["route", "fit", "d"]):
        done = _start(argv, tmp_path / "home", tmp_path)
        out, err = done.communicate(timeout=WAIT_S)
        assert done.returncode == 0, err
    assert (run_dir / "router.yaml").is_file()
    assert "router.yaml" in (run_dir / "report.md").read_text()


def test_a_demo_interrupted_while_fitting_its_router_says_how_to_fit_it(tmp_path, monkeypatch, capsys):
    """Ctrl-C after the search, while the router is fitted: the search is whole, the router is not."""
    from rolegraph.cli import router_views

    def stop(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(router_views, "demo_router", stop)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--iterations", "1", *TINY, "--out", "d", "--json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == INTERRUPT_EXIT_CODE
    assert err[-1].startswith("interrupted: the search in d is finished")
    assert err[-1].endswith("its router was not fitted: fit it with: rolegraph route fit d")
    assert (tmp_path / "d" / "report.md").is_file() and not (tmp_path / "d" / "router.yaml").exists()


def test_an_interrupted_eval_says_which_graphs_were_stored(tmp_path):
    (tmp_path / "small.yaml").write_text(SMALL_GRAPH)
    (tmp_path / "wide.yaml").write_text(WIDE_GRAPH)
    home = tmp_path / "home"
    proc = _start(["eval", "small.yaml", "wide.yaml", "--task", "gsm", "--split", "all", "--task-size", EVAL_ITEMS,
                   "--no-cache"], home, tmp_path)
    code, out, err = _interrupt_when(proc, lambda: _count(home / "results.sqlite", "SELECT COUNT(*) FROM runs") >= 1)
    assert code == INTERRUPT_EXIT_CODE
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0] == (
        "interrupted: stored 1 of 2 graphs ('small'; `rolegraph results` lists them); "
        "the graph being scored and any after it were not stored"
    )
    assert _count(home / "results.sqlite", "SELECT COUNT(*) FROM runs") == 1  # what it says is what is there


def test_a_ctrl_c_in_any_other_command_still_says_interrupted(monkeypatch, capsys):
    from rolegraph.cli import models_cmd

    def stop(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(models_cmd.ModelPool, "load", stop)
    with pytest.raises(SystemExit) as exc:
        main(["models"])
    assert exc.value.code == INTERRUPT_EXIT_CODE
    assert capsys.readouterr().err == "interrupted\n"


def test_what_the_messages_say_when_nothing_was_kept(tmp_path):
    assert str(search_interrupted(None)) == "the search had not started: nothing was saved"
    assert str(search_interrupted(tmp_path)) == "the search had not started: nothing was saved"  # no run.sqlite
    from rolegraph.optimize.rundir import RunStore

    fresh = tmp_path / "fresh"
    RunStore.create(fresh, {}).close()  # a store with no checkpoint yet: resume starts it again
    assert str(search_interrupted(fresh)).endswith(
        f"stopped before its first checkpoint; start it again with: rolegraph optimize --resume {fresh}"
    )
    assert not (fresh / "report.md").exists()  # nothing to render before the first checkpoint
    assert str(eval_interrupted([], 2)) == "nothing was stored: no graph had finished its items"
