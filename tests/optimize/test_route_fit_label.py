"""A router fitted on a run mixing sim and real models is labelled "partly simulated" wherever its figures show
(the fit, its description, the router file's fit block, `route fit`'s tables and note); one on real models only
carries no label. Outcomes of a tiny sim run are relabelled here: a real mixed search would take minutes."""
from __future__ import annotations

import pytest

from rolegraph.cli.route_cmd import _print
from rolegraph.optimize.cascade import Outcomes
from rolegraph.optimize.route_fit import fit_route
from rolegraph.optimize.route_inputs import load_outcomes
from tests.conftest import copy_search


@pytest.fixture(scope="module")
def run_dir(tiny_search, tmp_path_factory):
    return copy_search(tiny_search, tmp_path_factory.mktemp("label")) / "run"


def _as_real(o: Outcomes | None) -> Outcomes | None:
    if o is None:
        return None
    return Outcomes(o.name, o.source, o.spec, o.result.model_copy(update={"simulated": False, "simulation": "real"}))


def _single(o: Outcomes) -> bool:
    return o.source == "single"


def test_a_fit_mixing_sim_and_real_outcomes_is_partly_simulated(run_dir, tmp_path, capsys):
    fit, test = load_outcomes(run_dir)
    assert any(_single(o) for o in fit) and not all(_single(o) for o in fit)
    fit = [_as_real(o) if _single(o) else o for o in fit]  # the single models on real endpoints, the rest sim
    test = [_as_real(t) if t is not None and _single(t) else t for t in test]
    result = fit_route(run_dir, outcomes=(fit, test))
    assert result.simulation == "partly simulated" and result.simulated is False
    assert "(partly simulated)" in result.router.description
    assert result.router.fit["simulation"] == "partly simulated"
    _print(result, tmp_path / "router.yaml")
    out = capsys.readouterr().out
    assert "candidates: the run's paired outcomes (partly simulated)" in out
    assert "the fit never saw (partly simulated)" in out
    assert "partly simulated results:" in out


def test_a_fit_on_real_outcomes_only_carries_no_label(run_dir, tmp_path, capsys):
    fit, test = load_outcomes(run_dir)
    result = fit_route(run_dir, outcomes=([_as_real(o) for o in fit], [_as_real(t) for t in test]))
    assert result.simulation == "real"
    assert "simulated" not in result.router.description
    _print(result, tmp_path / "router.yaml")
    assert "simulated" not in capsys.readouterr().out
