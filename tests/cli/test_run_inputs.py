"""A run directory records its data and pool files by absolute path and content hash: it works from any
directory, and a file that changed since the search read it stops resume and `eval --add-to` in one line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rolegraph.optimize.rundir import RunStore
from tests.cli.support import cli

SINGLE = str(Path(__file__).parents[2] / "examples" / "graphs" / "single.yaml")
TINY = ["--models", "sim/llama-3.2-1b,sim/llama-3.2-3b", "--iterations", "1", "--samples", "2", "--batch", "4",
        "--validation-items", "4", "--test-items", "6", "--route-items", "8"]
ITEMS = 60


def write_gsm8k(path: Path, n: int = ITEMS, shift: int = 3) -> Path:
    """A GSM8K-format file of n additions (another `shift` gives other items under the same ids)."""
    rows = [{"question": f"What is {i} plus {shift}?", "answer": f"{i} + {shift} = {i + shift}\n#### {i + shift}"}
            for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    return tmp_path / "home"


def one_line_exit_2(code, err, *parts):
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert all(p in err for p in parts), err


def test_relative_paths_work_from_another_directory_and_changed_files_are_refused(tmp_path, capsys, monkeypatch):
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    data = write_gsm8k(work / "data1.jsonl")
    pool = work / "pool2.yaml"
    pool.write_text("models: []\n")
    monkeypatch.chdir(work)
    code, _, err = cli(["optimize", "--task", "gsm8k", "--data", "data1.jsonl", "--pool", "pool2.yaml", "--out", "dr",
                        "--json", *TINY], capsys)
    assert code == 0, err
    monkeypatch.chdir(elsewhere)
    code, out, err = cli(["eval", SINGLE, "--add-to", "../work/dr"], capsys)
    assert code == 0, err
    assert "test: " in out
    code, out, err = cli(["eval", SINGLE, "--add-to", "../work/dr", "--pool", "../work/pool2.yaml"], capsys)
    assert code == 0, err  # the run's own pool, named from here, is the run's pool
    code, out, err = cli(["route", "fit", "../work/dr", "--json"], capsys)
    assert code == 0, err
    code, out, err = cli(["optimize", "--resume", "../work/dr", "--json"], capsys)
    assert code == 0, err

    store = RunStore.open("../work/dr")
    try:
        cfg, inputs = store.config(), store.inputs()
    finally:
        store.close()
    assert cfg["task_args"]["data"] == str(data.resolve()) and cfg["pool"] == str(pool.resolve())
    assert inputs is not None and inputs["data"]["path"] == str(data.resolve()) and len(inputs["data"]["sha256"]) == 64
    assert inputs["pool"]["path"] == str(pool.resolve())


    original = data.read_bytes()
    write_gsm8k(data, shift=4)  # same path, other items: old outcomes must not be paired with new scores
    for argv in (["eval", SINGLE, "--add-to", "../work/dr"], ["optimize", "--resume", "../work/dr"]):
        code, _, err = cli(argv, capsys)
        one_line_exit_2(code, err, f"data file {data.resolve()} changed since the run read it")
    code, out, err = cli(["route", "fit", "../work/dr", "--json"], capsys)  # reads stored outcomes and the pool
    assert code == 0, err
    data.write_bytes(original)
    pool.write_text("models: []\nworld: 1\n")
    code, _, err = cli(["route", "fit", "../work/dr", "--json"], capsys)  # its costs come from the pool
    one_line_exit_2(code, err, f"pool file {pool.resolve()} changed since the run read it")
    code, _, err = cli(["eval", SINGLE, "--add-to", "../work/dr"], capsys)
    one_line_exit_2(code, err, f"pool file {pool.resolve()} changed since the run read it")
    pool.unlink()
    code, _, err = cli(["optimize", "--resume", "../work/dr"], capsys)
    one_line_exit_2(code, err, f"pool file {pool.resolve()} is gone")
