"""`rolegraph optimize`, `demo` and `report` end to end on the sim pool (tiny settings)."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rolegraph.cli import main
from rolegraph.graphs.io import load_graph

TINY = ["--task-size", "80", "--samples", "2", "--batch", "4", "--validation-items", "4", "--test-items", "6"]
KILL_TIMEOUT_S = 240
POLL_S = 0.05


def cli(argv, capsys):
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def test_demo_runs_end_to_end_and_the_best_graph_runs(tmp_path, capsys):
    code, out, err = cli(["demo", "--iterations", "1", "--out", str(tmp_path / "demo"), "--json", *TINY], capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["simulated"] is True and summary["optimizer"] == "agent-reinforce"
    assert summary["feedback_agent"] == "statistical"
    assert summary["best_single"]["label"].startswith("sim/")
    lo, hi = summary["test"]["ci95"]
    assert lo - 1e-9 <= summary["test"]["accuracy"] <= hi + 1e-9
    run_dir = tmp_path / "demo"
    assert (run_dir / "report.md").is_file() and (run_dir / "best_graph.yaml").is_file()
    code, out, err = cli(["validate", str(run_dir / "best_graph.yaml")], capsys)
    assert code == 0, err
    code, out, err = cli(["run", str(run_dir / "best_graph.yaml"), "--task", "gsm", "--item", "0", "--json"], capsys)
    assert code == 0, err
    ran = json.loads(out)
    assert ran["simulated"] is True and ran["answer"] is not None and ran["tokens"] > 0
    assert {n["model"] for n in ran["nodes"]} <= {n.model for n in load_graph(run_dir / "best_graph.yaml").nodes}


def test_demo_prints_best_graph_against_best_single_model(tmp_path, capsys):
    code, out, err = cli(["demo", "--iterations", "1", "--out", str(tmp_path / "d"), *TINY], capsys)
    assert code == 0, err
    assert "best graph:" in out and "best single model:" in out and "simulated" in out
    (tmp_path / "d" / "report.md").unlink()
    code, out, err = cli(["report", str(tmp_path / "d")], capsys)
    assert code == 0 and (tmp_path / "d" / "report.md").is_file()


@pytest.mark.parametrize("args, message", [
    (["optimize", "--task", "gsm", "--optimizer", "genetic"], "agent-reinforce"),
    (["optimize", "--task", "gsm", "--models", "sim/llama-3.2-1bb"], "sim/llama-3.2-1b"),
    (["optimize", "--task", "gsm", "--budget", "0.5"], "smallest feasible budget"),
    (["optimize", "--task", "gsm", "--objective", "speed"], "joint"),
    (["optimize", "--task", "nosuchtask"], "gsm"),
    (["optimize", "--task", "gsm", "--agent-model", "sim/llama-3.1-8b"], "simulated"),
])
def test_user_errors_are_one_line_exit_2(tmp_path, capsys, args, message):
    code, out, err = cli(args + ["--out", str(tmp_path / "never")], capsys)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "never").exists()


def test_resume_of_a_directory_that_is_not_a_run(tmp_path, capsys):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "keep.txt").write_text("x")
    code, out, err = cli(["optimize", "--resume", str(plain)], capsys)
    assert code == 2 and "not a search run directory" in err
    assert sorted(p.name for p in plain.iterdir()) == ["keep.txt"]
    code, out, err = cli(["report", str(plain)], capsys)
    assert code == 2 and sorted(p.name for p in plain.iterdir()) == ["keep.txt"]


def _checkpoint_iteration(db: Path) -> int:
    if not db.exists():
        return -1
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        row = con.execute("SELECT iteration FROM checkpoint WHERE id = 1").fetchone()
        con.close()
        return -1 if row is None else int(row[0])
    except sqlite3.Error:
        return -1


def _rolegraph(args, home: Path, **kwargs):
    env = dict(os.environ, ROLEGRAPH_HOME=str(home))
    return subprocess.Popen([sys.executable, "-m", "rolegraph", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def test_sigkilled_optimize_resumes_to_the_same_best_graph(tmp_path, capsys, monkeypatch):
    args = ["optimize", "--task", "gsm", "--iterations", "4", "--seed", "3", "--json", *TINY]
    killed_dir, full_dir = tmp_path / "killed", tmp_path / "full"
    victim = _rolegraph([*args, "--out", str(killed_dir)], tmp_path / "home-k")
    deadline = time.monotonic() + KILL_TIMEOUT_S
    while _checkpoint_iteration(killed_dir / "run.sqlite") < 1 and victim.poll() is None:
        assert time.monotonic() < deadline, "the search never checkpointed"
        time.sleep(POLL_S)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home-f"))
    code, full_out, err = cli([*args, "--out", str(full_dir)], capsys)
    assert code == 0, err
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home-k"))
    code, out, err = cli(["optimize", "--resume", str(killed_dir), "--json"], capsys)
    assert code == 0, err
    a, b = json.loads(out), json.loads(full_out)
    assert a["best_hash"] == b["best_hash"] and a["test"] == b["test"]
    ta = json.loads((killed_dir / "trace.json").read_text())
    tb = json.loads((full_dir / "trace.json").read_text())
    assert ta["evaluations"] == tb["evaluations"] and ta["iterations"] == tb["iterations"]
    assert (killed_dir / "best_graph.yaml").read_text() == (full_dir / "best_graph.yaml").read_text()


def test_optimize_in_a_world_names_it_keeps_it_on_resume_and_refuses_another(tmp_path, capsys):
    out_dir = tmp_path / "w2"
    code, out, err = cli(["optimize", "--task", "gsm", "--world", "2", "--iterations", "1", "--out", str(out_dir),
                          "--optimizer", "random", "--json", *TINY], capsys)
    assert code == 0, err
    assert json.loads(out)["world"] == 2
    assert "world 2" in (out_dir / "report.md").read_text()
    code, out, err = cli(["optimize", "--resume", str(out_dir), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["world"] == 2  # the run's own world, without --world
    code, out, err = cli(["optimize", "--resume", str(out_dir), "--world", "3"], capsys)
    assert code == 2 and "world 2" in err and "world 3" in err and "Traceback" not in err
