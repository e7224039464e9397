"""The GSM8K-check benchmark: the issue's three commands per world through the CLI, on a fixture file."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from benchmarks import gsm8k_check
from benchmarks.__main__ import main
from benchmarks.common import BenchRun

FIXTURE = Path(__file__).parents[1] / "tasks" / "fixtures" / "gsm8k_tiny.jsonl"
GOLD_ITEMS = 3  # the fixture's records with a gold answer after "####" (one has none)
FRESH = 25


@dataclass
class _KeptScratch(BenchRun):
    """A run whose scratch home is `root` and is kept after the result is written, so a test can read the run
    directory the check made (a plain `BenchRun` removes it)."""

    root: Path | None = None

    def scratch_home(self) -> Path:
        assert self.root is not None
        self.root.mkdir(parents=True)
        return self.root

    def remove_scratch(self) -> int:
        return 0


@pytest.fixture(scope="module")
def world3(tmp_path_factory) -> tuple[dict, Path, Path]:
    """One quick check of world 3 (50 route items, 25 fresh items): its payload, its output directory and its kept
    scratch home. Two tests ran world 3's three commands each (~a third of this file's time); each asserts its
    own things of this one run and only reads it."""
    base = tmp_path_factory.mktemp("gsm8k-check")
    payload = gsm8k_check.run(quick=True, out_dir=base / "out", data=FIXTURE, worlds=(3,), route_items=50,
                              fresh=FRESH, bench_run=_KeptScratch(root=base / "scratch"))
    return payload, base / "out", base / "scratch"


def test_a_quick_check_runs_the_commands_with_the_options_given_and_writes_its_own_files(world3):
    payload, out, _ = world3
    (row,) = payload["rows"]
    assert row["world"] == 3 and row["seen"]
    assert row["fit_items"] == 50  # optimize's --route-items reached the paired outcomes route fit read
    assert row["gsm8k"]["n"] == GOLD_ITEMS and row["fresh"]["n"] == FRESH
    assert row["passes"] == (row["flops_ratio"] <= 0.6 and row["gsm8k"]["diff"] >= -2.0)
    assert row["cv_diff"] is not None and row["cv_flops_ratio"] > 0  # 50 fit items: five folds of 10
    # the fixture is not gsm8k_test.jsonl: its stem is in the name, and its name and sha256 in the file
    written = json.loads((out / "gsm8k_check-w3-r50-fresh25-dgsm8k_tiny-quick.json").read_text())
    assert all(part in written["command"] for part in ("--data", "--worlds 3", "--route-items 50", "--fresh 25"))
    assert written["data"] == {"file": "gsm8k_tiny.jsonl", "sha256": hashlib.sha256(FIXTURE.read_bytes()).hexdigest()}
    assert written["simulated"] is True and not (out / "gsm8k_check-quick.json").exists()
    assert not (out / "gsm8k_check-w3-r50-fresh25-quick.json").exists()


def test_a_missing_data_file_is_one_line_and_exit_2(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["gsm8k_check", "--data", str(tmp_path / "nope.jsonl")])
    assert exc.value.code == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(ValueError, match="GSM8K test file"):
        gsm8k_check.run(quick=True, out_dir=tmp_path)


@pytest.mark.parametrize("worlds, route_items, fresh, default, stem", [
    (list(range(12)), None, None, True, None),
    (list(range(24, 36)), None, None, False, "gsm8k_check-w24-35"),
    ([0, 5, 9], None, None, False, "gsm8k_check-w0_5_9"),  # not 0-9: only three worlds ran
    (list(range(24)), 864, None, False, "gsm8k_check-w0-23-r864"),
    (list(range(12)), None, 200, True, "gsm8k_check-w0-11-fresh200"),  # --fresh changes results: named
])
def test_the_file_names_say_the_worlds_and_every_option_that_changes_results(worlds, route_items, fresh, default,
                                                                             stem):
    assert gsm8k_check.result_stem(worlds, route_items, fresh, default_worlds=default) == stem


@pytest.mark.parametrize("data, worlds, route_items, default, stem", [
    ("/work/shared/data/gsm8k_test.jsonl", list(range(12)), None, True, None),  # the stored files' names
    ("gsm8k_test.jsonl", [0, 1, 2, 3], None, False, "gsm8k_check-w0-3"),
    ("../data/gsm8k_train_sample.jsonl", list(range(12)), None, True, "gsm8k_check-w0-11-dgsm8k_train_sample"),
    ("gsm8k_train_sample.jsonl", [0, 1, 2, 3], 864, False, "gsm8k_check-w0-3-r864-dgsm8k_train_sample"),
    ("my data-v2.jsonl", [5], None, False, "gsm8k_check-w5-dmy_data_v2"),  # one path component, no extra dash
])
def test_a_data_file_other_than_gsm8k_test_is_in_the_file_name(data, worlds, route_items, default, stem):
    label = gsm8k_check.data_label(Path(data))
    assert gsm8k_check.result_stem(worlds, route_items, None, default_worlds=default, data=label) == stem


@pytest.mark.parametrize("argv", [["--jobs", "-1"], ["--jobs", "0"], ["--fresh", "0"], ["--route-items", "-5"]])
def test_non_positive_counts_are_one_line_and_exit_2(argv, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["gsm8k_check", "--quick", "--data", str(FIXTURE), "--out", str(tmp_path), *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and argv[0] in err[0] and "Traceback" not in err[0]


def test_run_refuses_non_positive_jobs_before_any_work(tmp_path):
    from benchmarks.common import UsageError

    with pytest.raises(UsageError, match="--jobs"):
        gsm8k_check.run(quick=True, out_dir=tmp_path, data=FIXTURE, jobs=-1)
    assert not list(tmp_path.iterdir())


def test_cross_fitting_picks_on_one_half_and_judges_on_the_other():
    from benchmarks.route_landscape import cross_fit

    # chain 0: the best graph; 1: lucky on the first half; 2: steady; 3: accurate but over the 0.6x line
    acc = np.array([[0.70, 0.70], [0.75, 0.60], [0.68, 0.69], [0.90, 0.90]])
    flops = np.array([[10.0, 10.0], [5.0, 5.0], [5.5, 5.5], [7.0, 7.0]])
    out = cross_fit(acc, flops, best=0, line=0.6)
    # first half picks chain 1 (judged -10 points at 0.5x), second half picks chain 2 (judged -2 at 0.55x)
    assert out["diff"] == pytest.approx(-6.0) and out["ratio"] == pytest.approx(0.525)
    assert out["picked_diff"] == pytest.approx((5.0 - 1.0) / 2)  # as it looked on the half it was picked on
    # nothing within the line: the cheapest chain, whose ratio shows it is over
    over = cross_fit(acc, flops, best=1, line=0.6)
    assert over["ratio"] == pytest.approx(1.0)


def test_half_means_are_route_fits_chains_reduced_per_half(world3):
    from benchmarks.route_landscape import half_means
    from rolegraph.graphs.analysis import TOKEN_PROFILES
    from rolegraph.models.pool import ModelPool
    from rolegraph.optimize.cascade import CascadeCosts
    from rolegraph.optimize.route_fit import all_points, load_outcomes

    payload, _, scratch = world3
    (row,) = payload["rows"]
    assert row["landscape"]["items"] == FRESH and row["landscape"]["chains"] > 1
    assert row["landscape"]["ratio"] > 0
    fit, _ = load_outcomes(scratch / "w3")
    pool, profile = ModelPool.load(None, world=3), TOKEN_PROFILES["math"]
    acc, flops, chains = half_means(fit, CascadeCosts(fit, pool, profile), 2)
    points = all_points(fit, CascadeCosts(fit, pool, profile), 2)
    assert [p.chain.stages for p in points] == chains
    half = np.arange(fit[0].n) < fit[0].n // 2
    assert np.allclose(acc, [[p.scores[half].mean(), p.scores[~half].mean()] for p in points])
    assert np.allclose(flops, [[p.flops[half].mean(), p.flops[~half].mean()] for p in points])


@pytest.mark.parametrize(
    "record, said",
    [('{"q": "1 + 1?"}', "missing field 'question'"), ("not json", "not valid JSON")],
)
def test_a_malformed_data_file_is_one_line_before_any_world_runs(record, said, tmp_path, capsys, monkeypatch):
    # it was a traceback from the first world's `rolegraph eval`, after that world's search had run
    data = tmp_path / "gsm8k.jsonl"
    data.write_text(record + "\n")
    monkeypatch.setattr(gsm8k_check, "check_world", lambda *args: pytest.fail("a world ran"))
    with pytest.raises(SystemExit) as exc:
        main(["gsm8k_check", "--quick", "--data", str(data), "--out", str(tmp_path / "out")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("python -m benchmarks gsm8k_check: error: ") and said in err[0]
