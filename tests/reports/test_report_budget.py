"""Both reports state a dollar budget in the project's money format: the HTML subtitle and report.md's setup
printed the stored float as it is, `budget 1e-05 (dollars)` or `budget 0.30000000000000004 (dollars)`."""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from rolegraph.reports.wording import budget_text
from tests.cli.support import cli, cli_in_home

POOL = """models:
  - {id: mine/a, backend: sim, sim_accuracy: {math: 0.5}, price_in: 0.005, price_out: 0.005}
  - {id: mine/b, backend: sim, sim_accuracy: {math: 0.6}, price_in: 0.005, price_out: 0.005}
"""
"""Prices of a fraction of a cent per million tokens: every graph is well within a budget of $0.00001 per item."""
SEARCH = ["--task", "gsm", "--task-size", "40", "--optimizer", "random", "--budget-kind", "dollars", "--budget",
          "0.00001", "--max-nodes", "2", "--iterations", "1", "--samples", "2", "--batch", "4",
          "--validation-items", "4", "--test-items", "4", "--json"]


@pytest.fixture(scope="module")
def dollar_run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("dollar-budget")
    (base / "pool.yaml").write_text(POOL)
    cli_in_home(base / "home", "optimize", *SEARCH, "--pool", base / "pool.yaml", "--out", base / "run")
    return base / "run"


def test_the_html_subtitle_and_the_setup_state_a_dollar_budget_as_money(dollar_run, tmp_path, capsys,
                                                                         monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    code, _, err = cli(["report", dollar_run, "--html"], capsys)
    assert code == 0, err
    page = html.unescape((dollar_run / "report.html").read_text())
    subtitle = re.search(r'<p class="subtitle">([^<]*)</p>', page)
    assert subtitle is not None and subtitle.group(1).endswith("; budget $0.00001 per item")
    setup = next(line for line in (dollar_run / "report.md").read_text().splitlines() if line.startswith("- space:"))
    assert "; budget $0.00001 per item;" in setup and "1e-05" not in setup


@pytest.mark.parametrize(("space", "text"), [
    ({"budget": 0.1 + 0.2, "budget_kind": "dollars"}, "$0.30 per item"),
    ({"budget": 1e-05, "budget_kind": "dollars"}, "$0.00001 per item"),
    ({"budget": 0.0031, "budget_kind": "dollars"}, "$0.0031 per item"),
    ({"budget": 2.5, "budget_kind": "dollars"}, "$2.50 per item"),
    ({"budget": 18.0, "budget_kind": "flops"}, "18 FLOPs units"),
    ({"budget": None, "budget_kind": "flops"}, "none"),
])
def test_a_budget_reads_in_its_unit(space, text):
    assert budget_text(space) == text
