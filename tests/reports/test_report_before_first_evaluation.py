"""A search stopped before its first evaluation (interrupted at iteration 0): its replies say nothing about what
answered, so its reports label it by its configured models (a sim pool's run is simulated, not "real"), and they
link no graph.png or best_graph.yaml, which the run never wrote."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from rolegraph.optimize.artifacts import trace_json
from rolegraph.optimize.run_reader import load_run, run_world
from rolegraph.reports.html import html_page
from rolegraph.reports.markdown import report_markdown
from rolegraph.reports.plots import simulation_label
from tests.cli.support import cli_in_home

TINY = ["--task-size", "80", "--samples", "2", "--batch", "4", "--validation-items", "4", "--test-items", "6"]


@pytest.fixture(scope="module")
def sim_run_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("sim-run")
    cli_in_home(base / "home", "optimize", "--task", "gsm", "--iterations", "1", "--out", base / "run", *TINY)
    return base / "run"


@pytest.fixture
def unstarted(sim_run_dir) -> dict:
    """The sim run as it stood before its first evaluation: its config and nothing scored."""
    run = copy.deepcopy(load_run(sim_run_dir))
    run.update(records=[], iterations=[], feedback=[], final=None, phase="search", iteration=0)
    return run


def test_a_sim_pool_run_with_no_evaluation_is_reported_simulated(unstarted):
    assert not unstarted["records"]
    report = report_markdown(unstarted, None, [])
    assert "Results are **simulated** (sim pool)" in report
    assert simulation_label(unstarted) == " (simulated, world 0)"
    page = html_page(unstarted)
    assert 'id="simulated"' in page and "SIMULATED" in page
    trace = trace_json(unstarted)  # trace.json, as an interrupted search writes it
    assert trace["simulated"] is True and trace["simulation"] == "simulated"
    assert run_world(unstarted) == 0


def test_a_mixed_pool_run_with_no_evaluation_is_reported_partly_simulated(unstarted):
    models = unstarted["config"]["provenance"]["models"]
    first = unstarted["config"]["space"]["models"][0]
    models[first]["simulated"] = False  # one configured model real, the others sim
    report = report_markdown(unstarted, None, [])
    assert "Results are **partly simulated**" in report
    assert simulation_label(unstarted) == " (partly simulated, world 0)"


def test_a_run_with_no_graph_links_no_graph_files(unstarted):
    report = report_markdown(unstarted, None, [])
    assert "](graph.png)" not in report and "run best_graph.yaml" not in report and "eval best_graph.yaml" not in report
    assert "No graph was scored yet" in report
    assert f"rolegraph optimize --resume {unstarted['run_dir']}" in report


def test_a_run_with_a_graph_still_links_them(sim_run_dir):
    report = (sim_run_dir / "report.md").read_text()
    assert "Graph: ![graph](graph.png)" in report and "rolegraph run best_graph.yaml --task gsm" in report
    assert (sim_run_dir / "graph.png").is_file() and (sim_run_dir / "best_graph.yaml").is_file()
