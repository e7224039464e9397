"""NaN and infinite numbers for the objective's knobs and the demo's budget are one-line usage errors."""
from __future__ import annotations

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.objectives import Objective
from tests.cli.support import cli


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))


@pytest.mark.parametrize("args, needle", [
    (["--objective", "joint", "--latency-weight", "nan"], "--latency-weight must be a finite number, got nan"),
    (["--objective", "joint", "--latency-weight", "inf"], "--latency-weight must be a finite number, got inf"),
    (["--latency-cap", "nan"], "--latency-cap must be a finite number, got nan"),
    (["--latency-cap", "inf"], "--latency-cap must be a finite number, got inf"),
    (["--cost-cap", "nan"], "--cost-cap must be a finite number, got nan"),
    (["--cost-cap", "inf"], "--cost-cap must be a finite number, got inf"),
])
def test_optimize_refuses_non_finite_objective_options(tmp_path, capsys, args, needle):
    code, out, err = cli(["optimize", "--task", "gsm", *args, "--out", str(tmp_path / "never")], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert needle in err and "pydantic" not in err
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("budget, needle", [("inf", "the budget must be finite, got inf"),
                                            ("nan", "the budget must be positive, got nan")])
def test_demo_refuses_a_non_finite_budget(tmp_path, capsys, budget, needle):
    code, out, err = cli(["demo", "--budget", budget, "--out", str(tmp_path / "never")], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err
    assert not (tmp_path / "never").exists()


def test_objective_model_refuses_an_infinite_cap_or_reference():
    with pytest.raises(ValueError):
        Objective(kind="latency_cap", latency_cap=float("inf"))
    with pytest.raises(ValueError):
        Objective(kind="joint", latency_ref=float("inf"))


def test_a_missing_cap_is_a_plain_message_not_pydantics_link():
    with pytest.raises(SearchError) as info:
        Objective.build("latency_cap")
    assert str(info.value) == "the latency_cap objective needs latency_cap (seconds)"
