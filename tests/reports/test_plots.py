"""The run directory's pictures say what answered: sim results are labelled simulated in the titles, and the
Pareto plot's y-axis names the batch-adjusted figure it plots."""
from __future__ import annotations

import pytest

from rolegraph.models.provenance import PARTLY, REAL
from rolegraph.optimize.run_reader import load_run
from rolegraph.optimize.pareto import front, points
from rolegraph.reports import plots
from tests.optimize.helpers import run, tiny_config


@pytest.fixture
def titles(monkeypatch):
    """Each saved figure's (title, y label) by file name, instead of the PNG."""
    seen: dict[str, tuple[str, str]] = {}

    def save(fig, path):
        ax = fig.axes[0]
        seen[path.name] = (ax.get_title(), ax.get_ylabel())

    monkeypatch.setattr(plots, "_save", save)
    return seen


def _search(pool, small_task, tmp_path):
    run(pool, tmp_path / "home", small_task, "random", config=tiny_config(iterations=1), out=tmp_path / "run")
    return load_run(tmp_path / "run")


def test_sim_plots_are_titled_simulated_with_the_world_and_the_y_axis_is_truthful(pool, small_task, tmp_path, titles):
    data = _search(pool, small_task, tmp_path)
    pts = points(data["records"])
    plots.curve_png(data, tmp_path / "curve.png")
    plots.pareto_png(pts, front(pts), tmp_path / "pareto.png", label=plots.simulation_label(data))
    world = data["config"]["world"]
    assert titles["curve.png"][0] == f"random on {data['config']['task']} (simulated, world {world})"
    assert titles["pareto.png"] == (f"graphs evaluated (simulated, world {world})", "training accuracy, batch-adjusted")


def test_partly_simulated_and_real_runs_are_labelled_for_what_answered(pool, small_task, tmp_path, titles):
    data = _search(pool, small_task, tmp_path)
    world = data["config"]["world"]
    data["records"][0].simulation = PARTLY
    assert plots.simulation_label(data) == f" (partly simulated, world {world})"
    for record in data["records"]:
        record.simulation = REAL
    assert plots.simulation_label(data) == ""
    plots.curve_png(data, tmp_path / "curve.png")
    assert "simulated" not in titles["curve.png"][0]
