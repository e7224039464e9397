"""`optimize` and `demo` at start-up: two searches with the default --out in the same second get a run directory
each, and one refused at start-up (an unusable state directory) leaves nothing that blocks its corrected retry."""
from __future__ import annotations

from pathlib import Path

from rolegraph.optimize import rundir
from tests.cli.support import cli

TINY = ["--task", "gsm", "--task-size", "80", "--optimizer", "random", "--iterations", "1", "--samples", "2",
        "--batch", "2", "--validation-items", "2", "--test-items", "2", "--route-items", "0", "--json"]


def test_two_searches_in_the_same_second_with_the_default_out_both_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(rundir.time, "strftime", lambda fmt: "20250101-000000")
    for _ in range(2):
        code, out, err = cli(["optimize", *TINY], capsys)
        assert code == 0, err
        assert "already holds a search run" not in err
    made = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert made == ["20250101-000000-gsm-random", "20250101-000000-gsm-random-2"]
    assert all((tmp_path / "runs" / name / "run.sqlite").is_file() for name in made)


def test_a_start_up_failure_leaves_no_run_directory_behind(tmp_path, capsys, monkeypatch):
    home = tmp_path / "home"
    home.write_text("a file in the way\n")
    monkeypatch.setenv("ROLEGRAPH_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(["optimize", *TINY, "--out", "dd"], capsys)
    assert code == 2 and err.strip().splitlines() == [
        f"error: ROLEGRAPH_HOME={home} cannot be used as the state directory (a file is in the way)"
    ]
    assert not Path("dd").exists()
    code, out, err = cli(["optimize", *TINY], capsys)  # the default --out: not made either
    assert code == 2 and not Path("runs").exists()
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "good-home"))
    code, out, err = cli(["optimize", *TINY, "--out", "dd"], capsys)  # the corrected retry is a new search
    assert code == 0, err
    assert "already holds" not in err


def test_a_default_out_is_removed_when_the_search_is_refused_after_it_was_made(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plain").mkdir()
    code, out, err = cli(["optimize", *TINY, "--init-from", tmp_path / "plain"], capsys)
    assert code == 2 and "not a search run directory" in err, err
    assert not any((tmp_path / "runs").iterdir())  # its reserved directory went again
