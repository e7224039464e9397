"""`timeout_s` of an MCP server takes a number only: `true` is not 1 s, nor "30" 30 s."""
from __future__ import annotations

import pytest

from tests.cli.support import run_cli

HEAD = "nodes:\n  - {id: a, role: solver, model: sim/llama-3.2-3b}\nedges: []\nmcp_servers:\n"


@pytest.mark.parametrize("given", ["true", "'30'"])
def test_validate_refuses_a_non_number_timeout(tmp_path, capsys, monkeypatch, given):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    graph = tmp_path / "g.yaml"
    graph.write_text(HEAD + f"  - {{name: s, command: [python, srv.py], timeout_s: {given}}}\n")
    code, out, err = run_cli(capsys, "validate", graph)
    assert code == 2 and out == "" and "Traceback" not in err
    assert "mcp server 1 ('s'): field 'timeout_s': Input should be a valid number" in err


@pytest.mark.parametrize("given", ["5", "2.5"])
def test_validate_takes_an_int_or_float_timeout(tmp_path, capsys, monkeypatch, given):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    graph = tmp_path / "g.yaml"
    graph.write_text(HEAD + f"  - {{name: s, command: [python, srv.py], timeout_s: {given}}}\n")
    code, out, err = run_cli(capsys, "validate", graph)
    assert code == 0 and out.startswith(f"ok: {graph}"), err
