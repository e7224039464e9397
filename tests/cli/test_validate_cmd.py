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


def test_eval_refuses_a_graph_whose_output_role_never_answers(tmp_path, capsys):
    graph = tmp_path / "g.yaml"
    graph.write_text(yaml.safe_dump({
        "name": "planner-last",
        "nodes": [{"id": "a", "role": "solver", "model": MODEL}, {"id": "p", "role": "planner", "model": MODEL}],
        "edges": [["a", "p"]],
    }))
    code, out, err = run_cli(capsys, "eval", graph, "--task", "gsm", "--n", "2")
    assert code == 2 and "Traceback" not in err and "output node 'p': role 'planner' never answers" in err
    code, out, err = run_cli(capsys, "validate", graph)  # validate refuses what eval refuses
    assert code == 2 and out == "" and "output node 'p': role 'planner' never answers" in err
    code, out, err = run_cli(capsys, "show", graph)  # run, show and serve show such a node's text
    assert code == 0 and "planner" in out, err
    graph.write_text(yaml.safe_dump({
        "name": "planner-first",
        "nodes": [{"id": "p", "role": "planner", "model": MODEL}, {"id": "a", "role": "solver", "model": MODEL}],
        "edges": [["p", "a"]],
    }))
    code, out, err = run_cli(capsys, "eval", graph, "--task", "gsm", "--n", "2")
    assert code == 0, err


def test_eval_refuses_an_unknown_tool_before_it_scores_anything(tmp_path, capsys):
    graph = tmp_path / "g.yaml"
    graph.write_text(yaml.safe_dump({
        "name": "typo", "nodes": [{"id": "a", "role": "solver", "model": MODEL, "params": {"tools": ["calculater"]}}],
        "edges": [],
    }))
    code, out, err = run_cli(capsys, "eval", graph, "--task", "gsm", "--n", "2")
    assert code == 2 and "unknown tool 'calculater'. Did you mean: calculator?" in err
