"""The paired comparison: searches matched by seed, censored log ratios, their mean and standard error, and the
command line over a stored result."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.paired import main, paired

CAP = 1000


def _runs(first: list[float | None], stay: list[float | None], seeds: list[int] | None = None) -> list[dict]:
    seeds = seeds if seeds is not None else list(range(len(first)))
    return [{"seed": s, "first": f, "stay": t} for s, f, t in zip(seeds, first, stay)]


def _settings() -> list[dict]:
    return [
        {"runs": {"agent-reinforce": _runs([100, 200], [400, math.inf]),
                  "random": _runs([200, 100], [400, 500])}},
        {"runs": {"agent-reinforce": _runs([500, 300], [500, 250], seeds=[1, 0]),
                  "random": _runs([250, None], [1000, None])}},  # None: never (a stored result's inf)
    ]


def test_searches_are_matched_by_seed_and_never_counts_as_the_cap():
    p = paired(_settings(), "random", CAP)
    assert p["pairs"] == 4
    # first reach, random / agent: 200/100, 100/200, seed 0: 250/300, seed 1: cap/500
    logs = [math.log(2), math.log(0.5), math.log(250 / 300), math.log(CAP / 500)]
    assert p["first"]["mean_log_ratio"] == pytest.approx(sum(logs) / 4, abs=1e-4)
    mean = sum(logs) / 4
    se = math.sqrt(sum((x - mean) ** 2 for x in logs) / 3) / 2
    assert p["first"]["se"] == pytest.approx(se, abs=1e-4)
    assert (p["first"]["sooner"], p["first"]["later"]) == (2, 2)
    # stay: 400/400 (tie), 500/cap, seed 0: 1000/250, seed 1: cap/500
    assert (p["stay"]["sooner"], p["stay"]["later"]) == (1, 2)
    assert p["never_stay"] == {"random": 1, "agent-reinforce": 1}


def test_a_method_missing_from_a_setting_pairs_nothing_there():
    settings = [{"runs": {"agent-reinforce": _runs([100], [100]), "tpe": _runs([100], [200])}},
                {"runs": {"agent-reinforce": _runs([100], [100])}}]
    p = paired(settings, "tpe", CAP)
    assert p["pairs"] == 1
    assert p["stay"]["mean_log_ratio"] == pytest.approx(math.log(2), abs=1e-4)
    assert p["first"]["se"] is None  # one pair has no spread


def test_the_command_reads_a_stored_result(tmp_path, capsys):
    path = tmp_path / "generalization.json"
    path.write_text(json.dumps({"settings": _settings(), "optimizers": ["agent-reinforce", "random"],
                                "config": {"max_evaluations": CAP}}))
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "| random | 4 |" in out and "2 sooner, 2 later" in out and "simulated" in out


@pytest.mark.parametrize(
    "worlds, said",
    [([2000, 2001, 2002, 2003], "sim worlds 2000-2003 (held out)"), ([4, 5, 6], "sim worlds 4-6 (tuned on)"),
     ([19, 20], "sim worlds 19-20 (tuned on and held out)")],
)
def test_the_command_names_the_results_worlds_and_whether_they_were_tuned_on(worlds, said, tmp_path, capsys):
    # the table said "simulated" but not which worlds, nor whether the agent was tuned on them
    path = tmp_path / "generalization-w.json"
    path.write_text(json.dumps({"settings": _settings(), "optimizers": ["agent-reinforce", "random"],
                                "config": {"max_evaluations": CAP}, "worlds": worlds, "tuned_worlds": [0, 19]}))
    assert main([str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"generalization-w.json: {said}, simulated"


def test_a_bad_result_file_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "x.json"
    path.write_text("{not json")
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    path.write_text(json.dumps({"settings": [], "optimizers": ["random"], "config": {"max_evaluations": 1}}))
    assert main([str(path)]) == 2
    assert "agent-reinforce is not among" in capsys.readouterr().err


def test_a_reader_that_closes_the_pipe_gets_no_traceback(tmp_path):
    """`python -m benchmarks.paired R.json | head`: the pipe closed before the table is written ends quietly."""
    path = tmp_path / "generalization.json"
    path.write_text(json.dumps({"settings": _settings(), "optimizers": ["agent-reinforce", "random"],
                                "config": {"max_evaluations": CAP}}))
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command writes a byte
    try:
        done = subprocess.run([sys.executable, "-m", "benchmarks.paired", str(path)], stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=60, cwd=Path(__file__).parents[2])
    finally:
        os.close(write)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert done.returncode == 0


@pytest.mark.parametrize("argv, said", [([], "Missing argument"), (["r.json", "--reference", "x"], "--reference")])
def test_a_wrong_command_line_is_one_line_and_exit_2(argv, said, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("python -m benchmarks.paired: error: ") and said in err[0]
