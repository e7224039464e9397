"""What every benchmark shares: provenance read at the start of a run (and unknown, never "clean", outside a
checkout), scratch directories removed after the run, numbers in file names, one-line usage errors."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from benchmarks import common
from benchmarks.common import BenchRun, in_processes, numbers_label, start_run


@pytest.mark.parametrize("values, label", [((2000, 2001, 2002, 2003), "2000-2003"), ((0, 5, 9), "0_5_9"),
                                            ((0, 1, 2, 5), "0-2_5"), ((3,), "3"), ((42.0,), "42"),
                                            ((18.0, 30.0, 42.0), "18_30_42"), ((5, 4), "5_4")])
def test_numbers_in_file_names_name_ranges_only_when_they_are_ranges(values, label):
    assert numbers_label(values) == label


def test_outside_a_checkout_the_commit_and_the_tree_state_are_unknown_not_clean(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "ROOT", tmp_path)  # a directory git does not know
    got = common._git()
    assert got == {"commit": None, "package_uncommitted_changes": None, "benchmarks_uncommitted_changes": None}
    assert common._fingerprint() is None
    assert start_run().machine()["tree_changed_during_run"] is None  # unknown at both ends: not "unchanged"


def test_inside_another_repository_the_project_is_still_not_a_checkout(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                    "--allow-empty", "-m", "another project"], check=True)
    (tmp_path / "sub").mkdir()
    monkeypatch.setattr(common, "ROOT", tmp_path / "sub")  # git answers for tmp_path's repository, not ours
    assert common._git()["commit"] is None


def test_the_commit_is_the_one_at_the_start_of_the_run_and_a_change_during_it_is_said(monkeypatch):
    states = iter([{"commit": "aaaaaaa", "package_uncommitted_changes": False,
                    "benchmarks_uncommitted_changes": False}])
    prints = iter(["before", "after"])
    monkeypatch.setattr(common, "_git", lambda: next(states))
    monkeypatch.setattr(common, "_fingerprint", lambda: next(prints))
    got = start_run().machine()  # a second _git() call would raise StopIteration
    assert got["commit"] == "aaaaaaa" and got["git_read"] == "start of run"
    assert got["tree_changed_during_run"] is True and "started" in got


def test_an_unchanged_tree_is_said_unchanged(monkeypatch):
    monkeypatch.setattr(common, "_git", lambda: {"commit": "bbbbbbb", "package_uncommitted_changes": False,
                                                 "benchmarks_uncommitted_changes": True})
    monkeypatch.setattr(common, "_fingerprint", lambda: "same")
    got = start_run().machine()
    assert got["tree_changed_during_run"] is False and got["benchmarks_uncommitted_changes"] is True


def test_in_this_checkout_the_commit_is_heads():
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=common.ROOT, capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    assert common._git()["commit"] == head.stdout.strip()


def test_writing_the_result_removes_the_runs_scratch_directories(tmp_path):
    run = BenchRun()
    homes = [run.scratch_home(), run.scratch_home()]
    (homes[0] / "state.sqlite").write_text("x")
    path = run.write_result("demo", {"simulated": True}, "| a |\n|---|\n| 1 |", out_dir=tmp_path)
    assert not any(h.exists() for h in homes)
    written = json.loads(path.read_text())
    assert written["machine"]["git_read"] == "when written"  # no start_run: said so


def _make_a_home(run: BenchRun, _: int) -> str:
    return str(run.scratch_home())


def test_worker_processes_remove_their_own_scratch_directories_and_leave_their_parents(tmp_path):
    run = BenchRun()
    parent = run.scratch_home()  # made before the workers fork
    paths = in_processes(run, _make_a_home, [(1,), (2,)], jobs=2)
    assert len(set(paths)) == 2 and not any(Path(p).exists() for p in paths)
    assert parent.exists()
    run.remove_scratch()
    assert not parent.exists()


def test_jobs_run_here_make_their_homes_in_the_run_and_they_go_with_its_result(tmp_path):
    run = BenchRun()
    paths = in_processes(run, _make_a_home, [(1,), (2,)], jobs=1)
    assert all(Path(p).is_dir() for p in paths)  # still in use until the result is written
    run.write_result("demo", {}, "| a |", out_dir=tmp_path)
    assert not any(Path(p).exists() for p in paths)


def test_two_runs_in_one_process_keep_their_own_scratch_directories(tmp_path):
    first, second = BenchRun(), BenchRun()
    mine, theirs = first.scratch_home(), second.scratch_home()
    first.write_result("one", {}, "| a |", out_dir=tmp_path)
    assert not mine.exists() and theirs.is_dir()
    second.remove_scratch()
    assert not theirs.exists()


def test_the_run_state_is_no_module_level_container():
    """What a run read and made lives in its `BenchRun`, not in lists or dicts of the module that every run mutates."""
    containers = {name for name, value in vars(common).items()
                  if isinstance(value, (list, dict, set)) and not name.startswith("__")}
    assert containers == set()


def test_the_command_line_hands_the_benchmark_a_run_started_before_it(tmp_path, monkeypatch):
    """`python -m benchmarks NAME` reads the provenance before the benchmark runs, and its result says so."""
    monkeypatch.setattr(common, "_git", lambda: {"commit": "ddddddd", "package_uncommitted_changes": False,
                                                 "benchmarks_uncommitted_changes": False})
    monkeypatch.setattr(common, "_fingerprint", lambda: "same")
    from benchmarks.__main__ import main

    assert main(["agreement_sim", "--quick", "--out", str(tmp_path)]) == 0
    machine = json.loads((tmp_path / "agreement_sim-quick.json").read_text())["machine"]
    assert machine["git_read"] == "start of run" and machine["commit"] == "ddddddd"


def test_a_usage_error_is_one_line_and_exit_2(capsys):
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["generalization", "--seeds", "x"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--seeds" in err[0] and "Traceback" not in err[0]


def test_real_model_benchmarks_are_run_by_name_only():
    from benchmarks.__main__ import NAMES, REAL

    assert {"agreement_real", "real_local"} <= set(REAL) and not {"agreement_real", "real_local"} & set(NAMES)


def test_a_runs_provenance_is_used_once(tmp_path, monkeypatch):
    """A later run in the same process (the smoke test, `all`) never reports an earlier run's start."""
    monkeypatch.setattr(common, "_git", lambda: {"commit": "ccccccc", "package_uncommitted_changes": False,
                                                 "benchmarks_uncommitted_changes": False})
    monkeypatch.setattr(common, "_fingerprint", lambda: "same")
    run = start_run()
    first = json.loads(run.write_result("one", {}, "| a |", out_dir=tmp_path).read_text())["machine"]
    second = json.loads(run.write_result("two", {}, "| a |", out_dir=tmp_path).read_text())["machine"]
    assert first["git_read"] == "start of run" and second["git_read"] == "when written"
