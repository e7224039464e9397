"""A demo option the search would refuse on its first steps (a task size too small for its splits, a budget no
graph fits, an --out that is a file, a directory holding other files, or a run already): its one-line error is
the whole output, as a bad --world's is, not printed after the demo's banner (and the split notes)."""

from __future__ import annotations

import pytest

from rolegraph.cli import demo_cmd
from rolegraph.errors import SearchError
from tests.cli.support import cli

BANNER = "rolegraph demo: Agent-REINFORCE on the simulated pool (world 0) over 'gsm'"


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    monkeypatch.chdir(tmp_path)


def _only_line(argv, capsys) -> str:
    code, out, err = cli(argv, capsys)
    assert code == 2 and out == "" and err.count("\n") == 1, (argv, out, err)
    return err.strip()


@pytest.mark.parametrize(("size", "split"), [(1, "train"), (2, "validation"), (3, "validation")])
def test_a_task_size_too_small_for_a_split_is_the_only_line(capsys, size, split):
    line = _only_line(["demo", "--task-size", size], capsys)
    assert line == f"error: task 'gsm' has no {split} items"


def test_a_budget_no_graph_fits_is_the_only_line(capsys):
    line = _only_line(["demo", "--budget", "0.5"], capsys)
    assert line.startswith("error: budget 0.5 FLOPs units is too small for any graph: the smallest feasible")


def test_an_out_that_is_a_file_or_holds_other_files_is_the_only_line(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    for name in ("afile", "full"):
        line = _only_line(["demo", "--out", tmp_path / name], capsys)
        assert line == f"error: {tmp_path / name} exists and is not an empty directory: choose another --out"


def test_an_out_under_a_file_is_the_only_line(tmp_path, capsys):
    """An --out whose parent is a file cannot be made: said before the banner, as the other refusals are."""
    (tmp_path / "afile").write_text("x")
    line = _only_line(["demo", "--out", tmp_path / "afile" / "sub"], capsys)
    assert line == f"error: {tmp_path / 'afile' / 'sub'}: cannot create the run directory ({tmp_path / 'afile'} is not a directory)"


def test_an_out_holding_a_run_is_the_only_line(tmp_path, capsys):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "run.sqlite").write_bytes(b"")
    line = _only_line(["demo", "--out", tmp_path / "old"], capsys)
    assert line.startswith(f"error: {tmp_path / 'old'} already holds a search run: resume it with")


def test_valid_options_still_get_the_banner_before_the_search(tmp_path, monkeypatch, capsys):
    """The checks refuse only what the search would: an empty directory or a new --out, and a task size that
    fills every split, reach the banner and the search (stopped here by a stand-in)."""

    async def stand_in(*args, **kwargs):
        raise SearchError("the search ran")

    monkeypatch.setattr(demo_cmd, "run_demo_search", stand_in)
    (tmp_path / "empty").mkdir()
    for out in ("empty", "new"):
        code, out_text, err = cli(["demo", "--task-size", "6", "--out", tmp_path / out], capsys)
        assert code == 2 and out_text.startswith(BANNER) and err == "error: the search ran\n", (out, out_text, err)
