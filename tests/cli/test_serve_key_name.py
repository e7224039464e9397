"""`serve --api-key-env` takes a variable's NAME; a key pasted there is refused in one line that does not repeat it
(it was echoed in "--api-key-env sk-...: the environment variable is not set or empty"), as a pool file's
`api_key_env` and an MCP server's `env_from` already refuse one."""
from __future__ import annotations

import pytest

from rolegraph.settings import HOME_ENV
from tests.cli.support import cli

UNSET = "ROLEGRAPH_TEST_UNSET_SERVE_KEY"
GRAPH = "name: g\nnodes: [{id: a, role: solver, model: sim/llama-3.2-1b}]\n"
PASTED = ["sk-abcdefghijklmnopqrstuvwxyz123456", "hf_AbCdEfGhIjKlMnOpQrStUv"]  # not a name; a name shaped like a key


@pytest.mark.parametrize("value", PASTED)
def test_a_pasted_key_is_refused_without_being_shown(value, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    graph = tmp_path / "g.yaml"
    graph.write_text(GRAPH)
    code, out, err = cli(["serve", graph, "--port", "0", "--api-key-env", value], capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "--api-key-env takes the NAME of an environment variable" in err
    assert value not in err + out


def test_an_unset_variable_is_still_named(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    monkeypatch.delenv(UNSET, raising=False)
    graph = tmp_path / "g.yaml"
    graph.write_text(GRAPH)
    code, _, err = cli(["serve", graph, "--port", "0", "--api-key-env", UNSET], capsys)
    assert code == 2
    assert err.strip() == f"error: --api-key-env {UNSET}: the environment variable is not set or empty"
