"""Every benchmark's --quick mode runs end to end and writes its JSON and table (no timing assertions:
timings are what the benchmarks report, not what tests check). The real-model benchmarks (`REAL`) are not run
here: minutes each on llama.cpp."""
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
    "worlds": ("single_models", "optima"),
    "estimates": ("figures", "meets_goal", "seeds"),
    "routing": ("settings", "coalescing", "meets_goal"), "agreement_sim": ("rows", "world"),
    "generalization": ("summary", "settings"), "oracle_floor": ("summary", "settings"),
}
SIMULATED = {"search_efficiency", "calibration", "estimates", "routing", "worlds", "agreement_sim", "generalization",
             "oracle_floor"}
"""The benchmarks whose accuracies come from the sim pool: their JSON says so."""


def test_every_benchmark_run_by_all_is_covered_here():
    assert set(NAMES) == set(EXPECTED_KEYS) and SIMULATED <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_quick_mode_writes_json_and_table(name, tmp_path):
    module = importlib.import_module(f"benchmarks.{name}")
    payload = module.run(quick=True, out_dir=tmp_path)
    written = json.loads((tmp_path / f"{name}-quick.json").read_text())
    assert written["benchmark"] == name and written["quick"] is True
    assert written["command"].startswith(f"python -m benchmarks {name} --quick")
    assert {"nproc", "python", "langgraph", "date", "commit", "package_uncommitted_changes"} <= set(written["machine"])
    for key in EXPECTED_KEYS[name]:
        assert key in written and key in payload
    text = (tmp_path / f"{name}-quick.md").read_text()
    assert text.count("|") > 4  # a table
    if name in SIMULATED:
        assert written["simulated"] is True
    if name == "routing":  # one section is a real model: each section says which it is
        assert "All results simulated" not in text
        if "skipped" in written["real_local"]:  # quick mode runs no real item: said, not claimed as measured
            assert "## Real local model: not run" in text and "(real, not simulated)" not in text
        else:
            assert "(real, not simulated)" in text
        assert text.count("(simulated)") >= 1 and "simulated" in text.split("## Coalesced")[1].split("\n")[0]
        assert written["real_local"]["simulated"] is False
        assert all("run_dir" not in s for s in written["settings"])  # it pointed into a removed scratch directory


def test_command_line_entry_point_rejects_unknown_names(capsys):
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["no-such-benchmark"])
    assert exc.value.code == 2


def test_a_benchmarks_help_lists_its_own_options(capsys):
    """`NAME --help` shows the module's options (its `options`), not only the shared ones."""
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
