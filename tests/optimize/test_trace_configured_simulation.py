"""`records_simulation` with no evaluation falls back to the configured models' label (`configured_simulation`),
never to "real" for a sim pool; with evaluations the replies decide, whatever the configuration says."""
from __future__ import annotations

from rolegraph.models.provenance import PARTLY, REAL, SIMULATED
from rolegraph.optimize.trace import EvalRecord, configured_simulation, records_simulation, run_simulation


def _config(flags: dict[str, bool], space: list[str] | None = None) -> dict:
    return {
        "space": {"models": list(flags) if space is None else space},
        "provenance": {"models": {m: {"backend": "x", "simulated": f} for m, f in flags.items()}},
    }


def _record(simulation) -> EvalRecord:
    return EvalRecord(
        seq=0, iteration=1, phase="search", source="sampled", graph_hash="h", objective=0.5, accuracy=0.5,
        latency_s=1.0, dollars=0.0, n=4, simulation=simulation,
    )


def test_configured_label_of_the_space_models():
    assert configured_simulation(_config({"sim/a": True, "sim/b": True})) == SIMULATED
    assert configured_simulation(_config({"sim/a": True, "local/b": False})) == PARTLY
    assert configured_simulation(_config({"local/a": False})) == REAL


def test_the_feedback_agent_in_the_provenance_is_not_a_space_model():
    # a real agent model beside a sim space: the searched models are all sim
    cfg = _config({"sim/a": True, "openai/agent": False}, space=["sim/a"])
    assert configured_simulation(cfg) == SIMULATED


def test_a_run_made_before_provenance_has_no_configured_label():
    assert configured_simulation({"space": {"models": ["sim/a"]}}) is None
    assert records_simulation([], configured_simulation({"space": {"models": ["sim/a"]}})) == REAL


def test_no_evaluation_takes_the_configured_label():
    assert records_simulation([], SIMULATED) == SIMULATED
    assert run_simulation({"records": [], "config": _config({"sim/a": True})}) == SIMULATED
    assert run_simulation({"records": [], "config": _config({"sim/a": True, "local/b": False})}) == PARTLY


def test_evaluations_decide_over_the_configuration():
    assert records_simulation([_record(REAL)], SIMULATED) == REAL
    assert run_simulation({"records": [_record(SIMULATED)], "config": _config({"local/a": False})}) == SIMULATED
