"""A graph-file mistake in `mcp_servers` names the field, never echoing a URL's credentials or an env value."""
from __future__ import annotations

import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.io import spec_from_data
from tests.cli.support import run_cli

NODES = "nodes:\n  - {id: a, role: solver, model: sim/llama-3.2-3b}\nedges: []\n"


def test_validate_of_a_bad_mcp_entry_echoes_no_secret(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    graph = tmp_path / "g.yaml"
    graph.write_text(NODES + "mcp_servers:\n  - {name: s, url: 'ftp://u:SECRETTOK@host/x', env: {K: SECRETVAL}}\n")
    code, out, err = run_cli(capsys, "validate", graph)
    assert code == 2 and "Traceback" not in err
    assert "SECRETTOK" not in err and "SECRETVAL" not in err
    assert "mcp server 1 ('s')" in err and "'url' must be an http(s) URL" in err


@pytest.mark.parametrize(
    ("entry", "shown", "field"),
    [
        ({"name": "s", "url": 123, "env": {"K": "SECRETVAL"}}, "got int", "url"),
        ({"name": "s", "command": ["x"], "env": {"K": ["SECRETVAL"]}}, "got list", "env.K"),
        ({"name": "s", "command": ["x"], "timeout_s": "SECRETVAL"}, "got str", "timeout_s"),
        ({"name": "s", "command": ["x"], "env_from": {"K": 7}, "env": {"J": "SECRETVAL"}}, "got int", "env_from.K"),
    ],
)
def test_field_problems_quote_a_type_not_the_value(entry, shown, field):
    with pytest.raises(GraphError) as info:
        spec_from_data({"nodes": [{"id": "a", "role": "solver", "model": "m"}], "edges": [], "mcp_servers": [entry]})
    text = str(info.value)
    assert "SECRETVAL" not in text
    assert f"field '{field}'" in text and shown in text


def test_an_entry_that_is_a_url_string_is_not_echoed():
    with pytest.raises(GraphError) as info:
        spec_from_data({"nodes": [{"id": "a", "role": "solver", "model": "m"}], "edges": [],
                        "mcp_servers": ["https://u:SECRETTOK@host/x?key=SECRETQ"]})
    text = str(info.value)
    assert "SECRETTOK" not in text and "SECRETQ" not in text
    assert "mcp server 1: expected a mapping, got str" in text
