"""`optimize` and `demo` refuse a negative --seed in one line (exit 2) before a run directory is made, and a search
refused for its task's splits leaves nothing that blocks the corrected retry with the same --out."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import cli

TINY = ["--iterations", "1", "--samples", "2", "--batch", "2", "--validation-items", "2", "--test-items", "2"]
SEED_LINE = "error: seed must be >= 0 (the search's draws are seeded by it), got -1"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    "argv",
    [
        ["optimize", "--task", "gsm", "--task-size", "80", *TINY, "--route-items", "0"],
        ["demo", "--task-size", "80", *TINY],
    ],
)
def test_a_negative_seed_is_one_line_and_makes_no_run_directory(argv, capsys):
    for out in (["--out", "neg"], []):  # the given --out, and the default one in ./runs
        code, stdout, err = cli([*argv, "--seed", "-1", *out], capsys)
        assert (code, stdout, err.splitlines()) == (2, "", [SEED_LINE])
        assert not Path("neg").exists()
        assert not any(Path("runs").glob("*"))  # no run directory (an empty ./runs may stay: `new_run_dir`'s base)


def test_a_task_too_small_to_search_leaves_out_free_for_the_retry(capsys):
    base = ["optimize", "--task", "gsm", *TINY, "--route-items", "0", "--optimizer", "random", "--out", "ts"]
    code, _, err = cli([*base, "--task-size", "1"], capsys)
    assert code == 2 and err.splitlines()[-1] == "error: task 'gsm' has no train items"
    assert not Path("ts").exists()
    code, _, err = cli([*base, "--task-size", "80", "--json"], capsys)
    assert code == 0, err
    assert Path("ts/run.sqlite").is_file()


def test_demo_refuses_a_huge_task_size_before_its_banner(capsys):
    code, stdout, err = cli(["demo", "--task-size", "100000000000", "--out", "big"], capsys)
    assert (code, stdout) == (2, "")
    assert err.splitlines() == ["error: task 'gsm': option size=100000000000 should be an integer from 1 to 100000"]
    assert not Path("big").exists()
