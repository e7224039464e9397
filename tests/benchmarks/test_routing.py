"""The routing benchmark's per-setting judgement (`routing.setting`) on a stand-in fit: a FLOPs target no cascade
fits is recorded in the result (it was only printed to stderr), and any other failure of a fit is raised, not taken
for an unfittable target (it was caught as `Exception`, and the goal then judged without that router)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmarks import routing
from rolegraph.errors import SearchError


def _point(accuracy: float, flops: float) -> SimpleNamespace:
    dump = {"accuracy": accuracy, "flops_units": flops}
    return SimpleNamespace(
        accuracy=accuracy, flops_units=flops, dollars=0.0, n=100, shares=[1.0], model_dump=lambda: dump
    )


def _router(accuracy: float, flops: float) -> SimpleNamespace:
    test = _point(accuracy, flops)
    return SimpleNamespace(
        test=test,
        stages=["a", "b"],
        rules=[],
        vs_best={"diff": 0.0, "ci95": [-0.02, 0.01]},
        flops_ratio=flops / 10.0,
        fit=test,
        note="",
        best_fit=_point(0.6, 10.0),
        best_test=_point(0.6, 10.0),
        best_name="best",
        candidates=[],
    )


def _judge(monkeypatch, tmp_path, refuse: Exception) -> dict:
    def fit(run_dir, target_flops=None, outcomes=None):
        if target_flops is not None and target_flops < 5.0:  # the 0.4x target
            raise refuse
        return _router(0.6, 10.0 if target_flops is None else target_flops)

    monkeypatch.setattr(routing, "search", lambda *args: None)
    monkeypatch.setattr(routing, "load_outcomes", lambda run_dir: [])
    monkeypatch.setattr(routing, "fit_route", fit)
    return routing.setting(1, "math", {}, tmp_path, tmp_path / "runs")


def test_a_target_no_cascade_fits_is_in_the_result(monkeypatch, tmp_path):
    got = _judge(monkeypatch, tmp_path, SearchError("no cascade of this run's graphs fits 4 FLOPs units"))
    assert got["unfitted_targets"] == {"0.4x": "no cascade of this run's graphs fits 4 FLOPs units"}
    assert {r["label"] for r in got["rows"]} == {"router default", "router 0.6x", "router 0.8x", "router 1x"}
    assert got["meets_match"] is True  # the 0.6x router: 6 FLOPs <= 0.6 x 10, its interval reaches 0


def test_a_fit_that_fails_for_another_reason_is_raised(monkeypatch, tmp_path):
    with pytest.raises(KeyError):
        _judge(monkeypatch, tmp_path, KeyError("a bug in the fit"))


@pytest.mark.parametrize(
    "quick, worlds, real_items, stem",
    [
        (False, None, None, None),  # the default: routing.*
        (False, (0, 1, 2), None, None),  # the default's worlds, named
        (False, (0, 1, 2, 3, 4), None, "routing-w0-4"),  # BENCHMARKS.md's command wrote over routing.* before
        (False, (0, 3), 0, "routing-w0_3-r0"),
        (False, None, 60, None),
        (True, (0,), 0, None),  # quick's own default
        (True, (0, 1), None, "routing-w0-1"),
    ],
)
def test_a_run_on_other_settings_writes_files_named_after_them(quick, worlds, real_items, stem):
    default = routing.QUICK if quick else routing.FULL
    assert routing.result_stem(default, worlds, real_items) == stem


def test_no_real_items_says_so_and_not_that_the_run_was_quick():
    from benchmarks.routing_real import real_local

    said = real_local({"real_items": 0}, Path("unused"))["skipped"]
    assert "--real-items 0" in said
