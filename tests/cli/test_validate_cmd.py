"""`rolegraph validate` finds what `run` would refuse or silently ignore: every problem at once, one line each."""
from __future__ import annotations

import yaml

from tests.cli.support import run_cli

MODEL = "sim/llama-3.2-3b"


def test_validate_lists_unknown_tools_and_params_keys_together(tmp_path, capsys):
    graph = tmp_path / "g.yaml"
    graph.write_text(yaml.safe_dump({
        "name": "typos",
        "nodes": [
            {"id": "s", "role": "searcher", "model": MODEL, "params": {"tools": ["calculater", "wikki.search"]}},
            {"id": "f", "role": "solver", "model": MODEL, "params": {"temprature": 0.3}},
        ],
        "edges": [["s", "f"]],
    }))
    code, out, err = run_cli(capsys, "validate", graph)
    assert code == 2 and out == "" and "Traceback" not in err
    assert f"error: {graph}: 3 problems" in err
    assert "node 'f': unknown params key 'temprature'. Did you mean: temperature?" in err
    assert "node 's': unknown tool 'calculater'. Did you mean: calculator?" in err
    assert "tool 'wikki.search' names MCP server 'wikki', which is not declared" in err


def test_declared_mcp_tools_and_builtin_tools_pass(tmp_path, capsys):
    graph = tmp_path / "g.yaml"
    graph.write_text(yaml.safe_dump({
        "name": "fine",
        "nodes": [{"id": "s", "role": "searcher", "model": MODEL, "params": {"tools": ["wiki.search", "search"]}},
                  {"id": "f", "role": "solver", "model": MODEL, "params": {"tools": ["calculator", "python"]}}],
        "edges": [["s", "f"]],
        "mcp_servers": [{"name": "wiki", "command": ["python", "server.py"]}],
    }))
    code, out, err = run_cli(capsys, "validate", graph)
    assert code == 0 and out.startswith(f"ok: {graph}: 2 nodes"), err


def test_a_search_role_with_only_compute_tools_is_refused_before_it_runs(tmp_path, capsys):
    graph = tmp_path / "g.yaml"
    nodes = [{"id": "s", "role": "searcher", "model": MODEL, "params": {"tools": ["calculator", "python"]}},
             {"id": "f", "role": "solver", "model": MODEL, "params": {"tools": ["calculator"]}}]
    graph.write_text(yaml.safe_dump({"name": "compute", "nodes": nodes, "edges": [["s", "f"]]}))
    code, out, err = run_cli(capsys, "validate", graph)
    assert code == 2 and out == "" and "Traceback" not in err
    assert "node 's': role 'searcher' (search mode) has no search tool" in err
    assert "node 'f'" not in err  # a solver computes with whatever it lists

    nodes[0]["params"]["tools"] = ["calculator", "search"]
    graph.write_text(yaml.safe_dump({"name": "compute", "nodes": nodes, "edges": [["s", "f"]]}))
    code, out, err = run_cli(capsys, "validate", graph)
    assert code == 0, err
