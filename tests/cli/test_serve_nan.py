"""Non-finite float options of `serve` and `serve-sim` are one line and exit 2: `--timeout nan` passed the
`<= 0` check, and every request then failed at once with 504."""
from __future__ import annotations

import pytest

from rolegraph.settings import HOME_ENV
from tests.cli.support import cli

GRAPH = "name: g\nnodes: [{id: a, role: solver, model: sim/llama-3.2-1b}]\n"
UNSET_KEY = "ROLEGRAPH_TEST_UNSET_SERVE_KEY"
# A mistake checked after the float options (an unset key variable, a port out of range): had a non-finite value
# passed, the command would stop there with another message, not start serving and never return.


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
def test_serve_refuses_a_timeout_that_is_not_a_finite_number(value, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    monkeypatch.delenv(UNSET_KEY, raising=False)
    graph = tmp_path / "g.yaml"
    graph.write_text(GRAPH)
    code, _, err = cli(["serve", graph, "--port", "0", "--api-key-env", UNSET_KEY, "--timeout", value], capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "--timeout must be a positive, finite number of seconds" in err


@pytest.mark.parametrize("flag", ["--fault-rate", "--latency-scale", "--hang-s", "--retry-after"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_serve_sim_refuses_float_options_that_are_not_finite(flag, value, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    code, _, err = cli(["serve-sim", "--port", "70000", flag, value], capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"{flag} must be a finite number, got {value}" in err
