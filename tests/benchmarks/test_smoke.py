"""Every benchmark's --quick mode runs end to end and writes its JSON and table (no timing assertions:
timings are what the benchmarks report, not what tests check)."""
from __future__ import annotations

import importlib
import json

import pytest

from benchmarks.__main__ import NAMES

EXPECTED_KEYS = {
    "overhead": ("results", "meets_goal"), "parallelism": ("results", "meets_goal"),
    "throughput": ("results", "memory"), "search_efficiency": ("budgets", "meets_goal"),
    "calibration": ("single", "mixes", "sweeps", "insights", "checked", "agreement", "tensions"),
    "scaling": ("results",),
    "worlds": ("single_models", "optima"), "agreement_real": ("summary", "rows"),
    "estimates": ("figures", "meets_goal", "seeds"),
    "routing": ("settings", "coalescing", "meets_goal"), "agreement_sim": ("rows", "world"),
    "generalization": ("summary", "settings"), "oracle_floor": ("summary", "settings"),
}


@pytest.mark.parametrize("name", NAMES)
def test_quick_mode_writes_json_and_table(name, tmp_path):
    module = importlib.import_module(f"benchmarks.{name}")
    payload = module.run(quick=True, out_dir=tmp_path)
    written = json.loads((tmp_path / f"{name}-quick.json").read_text())
    assert written["benchmark"] == name and written["quick"] is True
    assert written["command"].startswith(f"python -m benchmarks {name} --quick")
    assert {"nproc", "python", "langgraph", "date"} <= set(written["machine"])
    for key in EXPECTED_KEYS[name]:
        assert key in written and key in payload
    assert (tmp_path / f"{name}-quick.md").read_text().count("|") > 4  # a table


def test_command_line_entry_point_rejects_unknown_names(capsys):
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["no-such-benchmark"])
    assert exc.value.code == 2


def test_a_benchmarks_help_lists_its_own_options(capsys):
    """`NAME --help` shows the module's options (`add_arguments`), not only the shared ones."""
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["generalization", "--help"])
    assert exc.value.code == 0
    shown = capsys.readouterr().out
    assert "--worlds" in shown and "--budgets" in shown and "--quick" in shown


def test_help_without_a_name_is_the_general_help(capsys):
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    shown = capsys.readouterr().out
    assert "generalization" in shown and "--budgets" not in shown
