"""`rolegraph results --store DIR`: a directory holding results.sqlite (a search's run directory keeps its
paired outcomes there) is read as that store; it was told "no results store yet (run `rolegraph eval` first)".
A directory without one is a one-line error saying so, not a claim that nothing was stored."""
from __future__ import annotations

import json
from pathlib import Path

from tests.cli.support import run_cli

SINGLE = Path(__file__).resolve().parents[2] / "examples" / "graphs" / "single.yaml"


def test_a_directory_holding_results_sqlite_is_that_store(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    code, out, err = run_cli(capsys, "eval", SINGLE, "--task", "gsm", "--n", 2, "--store", run_dir / "results.sqlite",
                             "--json")
    assert code == 0, err
    run_id = json.loads(out.splitlines()[0])["run_id"]
    code, out, err = run_cli(capsys, "results", "--store", run_dir, "--json")
    assert code == 0, err
    assert [json.loads(line)["id"] for line in out.splitlines()] == [run_id]
    code, out, err = run_cli(capsys, "results", run_id, "--store", run_dir, "--json")
    assert code == 0, err
    assert json.loads(out)["run_id"] == run_id


def test_a_directory_without_one_is_said_to_be_a_directory(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    empty = tmp_path / "not-a-run"
    empty.mkdir()
    code, out, err = run_cli(capsys, "results", "--store", empty)
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and f"{empty} is a directory" in err and "results.sqlite" in err
    assert "no results store yet" not in err
