"""A search on a pool file of sim models whose sizes are unknown and whose prices are a fraction of a cent per
million tokens: its report.md and report.html show FLOPs as n/a (never 0.00), costs of a few millionths of a
dollar with their significant figures (never 0.00000), and the page still renders once the pool file has moved
(it exited 2, "pool file not found", and left the old report.html behind)."""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from rolegraph.optimize.run_reader import load_run
from tests.cli.support import cli, cli_in_home

POOL = """models:
  - {id: mine/a, backend: sim, sim_accuracy: {math: 0.5}, price_in: 0.005, price_out: 0.005}
  - {id: mine/b, backend: sim, sim_accuracy: {math: 0.6}, price_in: 0.005, price_out: 0.005}
"""
"""No params_b/layers/hidden: FLOPs cannot be computed, so the run records 0.0 (the "unknown" sentinel)."""
SEARCH = ["--task", "gsm", "--task-size", "80", "--optimizer", "random", "--budget-kind", "dollars", "--budget",
          "0.0001", "--max-nodes", "3", "--iterations", "1", "--samples", "2", "--batch", "4",
          "--validation-items", "4", "--test-items", "6", "--json"]
RELATIVE = 0.005  # three significant figures are within half a percent
ZERO_CELL = re.compile(r"^0\.0+$")


@pytest.fixture(scope="module")
def pooled_run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("pooled")
    (base / "pool.yaml").write_text(POOL)
    cli_in_home(base / "home", "optimize", *SEARCH, "--pool", base / "pool.yaml", "--out", base / "run")
    return base / "run"


@pytest.fixture
def run_copy(pooled_run, tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    return Path(shutil.copytree(pooled_run, tmp_path / "run"))


def _table_rows(report: str, first_cell: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in report.splitlines()
            if line.startswith(f"| {first_cell}")]


def _html_rows(page: str, first_cell: str) -> list[list[str]]:
    rows = re.findall(rf"<tr[^>]*>(<td>{re.escape(first_cell)}.*?)</tr>", page)
    return [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in rows]


def test_flops_of_models_without_sizes_read_n_a_in_both_reports(run_copy, capsys):
    final = load_run(run_copy)["final"]
    assert final is not None and final.test.flops_units == 0.0 and final.singles  # the premise: sizes unknown
    code, _, err = cli(["report", run_copy, "--html"], capsys)
    assert code == 0, err
    report = (run_copy / "report.md").read_text()
    rows = _table_rows(report, "chosen graph") + _table_rows(report, "single ")
    assert len(rows) == 1 + len(final.singles)
    assert all(row[-1].startswith("n/a") for row in rows), rows  # the FLOPs units column
    page = (run_copy / "report.html").read_text()
    card = re.search(r'<div class="label">chosen graph, cost</div><div class="value">([^<]*)</div>', page)
    assert card is not None and "n/a" in card.group(1) and "0.0 FLOPs" not in page
    cells = _html_rows(page, "chosen graph") + _html_rows(page, "single ")
    assert len(cells) == 1 + len(final.singles)
    assert all(row[-1].startswith("n/a") for row in cells), cells


def test_costs_of_millionths_of_a_dollar_keep_their_figures(run_copy, capsys):
    final = load_run(run_copy)["final"]
    tiny = [s.dollars for s in final.singles]
    assert tiny and all(0 < d < 5e-06 for d in tiny)  # the premise: five decimals would print 0.00000
    code, _, err = cli(["report", run_copy, "--html"], capsys)
    assert code == 0, err
    report = (run_copy / "report.md").read_text()
    page = (run_copy / "report.html").read_text()
    for rows in (_table_rows(report, "single "), _html_rows(page, "single ")):
        by_label = {row[0].removeprefix("single "): row for row in rows}
        for single in final.singles:
            cell = by_label[single.label][-2]  # the $ per item column
            assert not ZERO_CELL.match(cell), cell
            assert abs(float(cell) - single.dollars) <= RELATIVE * single.dollars, (cell, single.dollars)


def _move_pool(run_dir: Path, to: Path) -> None:
    """The run's config names a pool file that is no longer there (moved after the search)."""
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        config = json.loads(db.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()[0])
        assert config["pool"]  # the premise: the search read a pool file
        db.execute("UPDATE meta SET value = ? WHERE key = 'config'", (json.dumps({**config, "pool": str(to)}),))


def test_the_page_renders_after_the_pool_file_moved(run_copy, tmp_path, capsys):
    gone = tmp_path / "moved-away" / "pool.yaml"
    _move_pool(run_copy, gone)
    code, out, err = cli(["report", run_copy, "--html"], capsys)
    assert code == 0, err
    page = (run_copy / "report.html").read_text()
    assert "FLOPs units not shown" in page and f"{gone}: pool file not found" in page
    (run_copy / "report.html").write_text("stale page")
    code, out, err = cli(["report", run_copy], capsys)  # re-renders the existing page as well
    assert code == 0, err
    page = (run_copy / "report.html").read_text()
    assert page != "stale page" and f"{gone}: pool file not found" in page
