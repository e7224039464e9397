"""The report's router paragraph carries the fit's three-way label: a router fitted on a run mixing sim and
real models said nothing at all (only an all-simulated fit was labelled)."""
from __future__ import annotations

import pytest
import yaml

from rolegraph.reports.router import router_note


def _router_file(tmp_path, fit_extra: dict) -> None:
    fit = {"test": {"accuracy": 0.7, "n": 40, "flops_units": 3.0, "shares": [0.6, 0.4]},
           "best_graph": {"test": {"accuracy": 0.72, "flops_units": 6.0}}, **fit_extra}
    (tmp_path / "router.yaml").write_text(yaml.safe_dump({"kind": "router", "stages": [{}, {}], "fit": fit}))


@pytest.mark.parametrize("stored, label", [
    ({"simulation": "partly simulated", "simulated": False}, "(partly simulated)"),
    ({"simulation": "simulated", "simulated": True}, "(simulated)"),
    ({"simulated": True}, "(simulated)"),  # a router file from before the three-way label
])
def test_a_fit_on_simulated_models_says_so(tmp_path, stored, label):
    _router_file(tmp_path, stored)
    note = router_note(tmp_path)
    assert note is not None
    assert f"on 40 test items, at 0.50x the best graph's FLOPs (3.0 vs 6.0 units); stages answered 60%, 40% {label}." \
        in note.text("rolegraph run router.yaml")


def test_a_fit_on_real_models_carries_no_label(tmp_path):
    _router_file(tmp_path, {"simulation": "real", "simulated": False})
    text = router_note(tmp_path).text("rolegraph run router.yaml")
    assert "simulated" not in text and "stages answered 60%, 40%." in text
