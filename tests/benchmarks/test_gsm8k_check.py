"""The GSM8K-check benchmark: the issue's three commands per world through the CLI, on a fixture file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import gsm8k_check
from benchmarks.__main__ import main

FIXTURE = Path(__file__).parents[1] / "tasks" / "fixtures" / "gsm8k_tiny.jsonl"
GOLD_ITEMS = 3  # the fixture's records with a gold answer after "####" (one has none)


def test_a_quick_check_runs_the_commands_with_the_options_given_and_writes_its_own_files(tmp_path):
    payload = gsm8k_check.run(quick=True, out_dir=tmp_path, data=FIXTURE, worlds=(3,), route_items=50, fresh=25)
    (row,) = payload["rows"]
    assert row["world"] == 3 and row["seen"]
    assert row["fit_items"] == 50  # optimize's --route-items reached the paired outcomes route fit read
    assert row["gsm8k"]["n"] == GOLD_ITEMS and row["fresh"]["n"] == 25
    assert row["passes"] == (row["flops_ratio"] <= 0.6 and row["gsm8k"]["diff"] >= -2.0)
    assert row["cv_diff"] is not None and row["cv_flops_ratio"] > 0  # 50 fit items: five folds of 10
    written = json.loads((tmp_path / "gsm8k_check-w3-3-r50-quick.json").read_text())
    assert all(part in written["command"] for part in ("--data", "--worlds 3", "--route-items 50"))
    assert written["simulated"] is True and not (tmp_path / "gsm8k_check-quick.json").exists()


def test_a_missing_data_file_is_one_line_and_exit_2(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["gsm8k_check", "--data", str(tmp_path / "nope.jsonl")])
    assert exc.value.code == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(ValueError, match="GSM8K test file"):
        gsm8k_check.run(quick=True, out_dir=tmp_path)
