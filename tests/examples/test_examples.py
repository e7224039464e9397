"""Every example runs offline here: on the sim pool where it can, on the embedded model where it must."""
from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rolegraph.graphs.io import load_graph
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
TWO_QUESTIONS = [
    ("q1", "Who discovered penicillin?", "Alexander Fleming"),
    ("q2", "Who discovered penicillin? Where was the discoverer born; and in which country is that town?", "Darvel"),
]
CONTEXT = [["Penicillin", ["Penicillin was discovered by Alexander Fleming in 1928."]],
           ["Alexander Fleming", ["Alexander Fleming was born in Darvel, Scotland."]]]


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dynamic_mindsearch_graph_spawns_as_many_searchers_as_the_planner_asks(tmp_path, capsys):
    """The check: two questions, two different numbers of searchers (rolegraph run --json on the sim)."""
    from rolegraph.cli import main

    data = tmp_path / "qa.json"
    data.write_text(json.dumps([{"_id": i, "question": q, "answer": a, "supporting_facts": [], "context": CONTEXT}
                                for i, q, a in TWO_QUESTIONS]))
    counts = []
    for item in ("q1", "q2"):
        main(["run", str(EXAMPLES / "graphs" / "mindsearch.yaml"), "--task", "hotpotqa", "--data", str(data),
              "--item", item, "--json"])
        out = json.loads(capsys.readouterr().out)
        copies = [n for n in out["nodes"] if n.get("instance_of") == "search"]
        assert all(n["tool_calls"] for n in copies) and "spawned" in out["notes"][0]
        counts.append(len(copies))
    assert counts == [1, 3]


def test_mindsearch_agent_main_path_on_the_sim(tmp_path):
    from rolegraph.tools.local_search import LocalSearch, SearchTool
    from rolegraph.tools.toolbox import ToolBox

    agent = load_example("mindsearch_agent")
    hub = ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False))
    box = ToolBox([SearchTool(LocalSearch.from_documents(
        [{"title": t, "text": " ".join(s)} for t, s in CONTEXT]))])
    results = [asyncio.run(agent.ask(Item(id=i, question=q, gold=a, family="qa"), hub, box, "sim/llama-3.1-8b"))
               for i, q, a in TWO_QUESTIONS]
    assert [len(r.runs("search")) for r in results] == [1, 3]
    assert "search[3]: searched" in agent.report(results[1])


def test_revise_loop_example(capsys):
    rows = asyncio.run(load_example("revise_loop").main(3))
    assert len(rows) == 3 and all(1 <= rounds <= 3 for _, rounds, _ in rows)
    assert "(simulated)" in capsys.readouterr().out


def test_every_example_graph_file_validates():
    from rolegraph.graphs.validate import validate_graph

    for path in sorted((EXAMPLES / "graphs").glob("*.yaml")):
        assert validate_graph(load_graph(path), ModelPool.builtin()) == [], path


def test_mcp_example_server_through_a_searcher(tmp_path):
    """examples/mcp_wiki_server.py started from examples/graphs/mcp_search.yaml; the searcher (a sim model
    here, to answer an item) sends its Query: lines through the server's `wiki.search`."""
    pytest.importorskip("mcp")
    from rolegraph.graphs.runtime import run_graph
    from rolegraph.tools.mcp import mcp_toolbox
    from rolegraph.tools.toolbox import ToolBox

    spec = load_graph(EXAMPLES / "graphs" / "mcp_search.yaml")
    server = spec.mcp_servers[0].model_copy(update={"command": [sys.executable, str(EXAMPLES / "mcp_wiki_server.py")],
                                                    "timeout_s": 120})
    nodes = [n.model_copy(update={"model": "sim/llama-3.2-3b"}) for n in spec.nodes]
    spec = spec.model_copy(update={"nodes": nodes, "mcp_servers": [server]})
    settings = Settings.from_env(cache=False)

    async def main():
        hub = ModelHub(ModelPool.builtin(), settings)
        async with mcp_toolbox(spec.mcp_servers, settings, ToolBox([]), allow_commands=True) as box:
            return await run_graph(spec, Item(id="w", question="Who discovered penicillin?",
                                              gold="Alexander Fleming", family="qa"), hub, toolbox=box)

    res = asyncio.run(main())
    call = res.node("search").tools[0]
    assert call.tool == "wiki.search" and call.ok and "Penicillin" in res.node("search").output


def test_serve_client_example_streams_from_a_served_graph(tmp_path):
    from rolegraph.models.local import engine_status

    ok, why = engine_status()
    if not ok:
        pytest.skip(why)
    from tests.serve.conftest import one_node_graph, serve

    with serve(one_node_graph("local/smollm2-135m", "local"), ModelPool.builtin(), tmp_path) as server:
        text = load_example("serve_client").ask("Count from one to five.", base_url=server.base_url, model="local")
    assert text.strip()


@pytest.mark.parametrize("script", ["compose", "serve_client", "revise_loop", "search_agent", "langgraph_app",
                                    "mindsearch_agent"])
def test_every_example_script_answers_help_without_running(script, tmp_path):
    """--help prints usage and does nothing else (compose.py once wrote a graph file named `--help`)."""
    import subprocess

    done = subprocess.run([sys.executable, str(EXAMPLES / f"{script}.py"), "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:") and list(tmp_path.iterdir()) == []


def test_search_agent_eval_file_mistakes_are_one_line_errors(tmp_path):
    from rolegraph.errors import RolegraphError

    agent = load_example("search_agent")
    with pytest.raises(RolegraphError, match="cannot read"):
        agent.read_rows(tmp_path / "missing.jsonl", None)
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"id": 1, "question": "Who?", "answer": "Fleming", "split": "tune"}\n{"id": 2, "answer": "x"}\n')
    with pytest.raises(RolegraphError, match=r"rows.jsonl:2: missing question"):
        agent.read_rows(rows, None)
    rows.write_text('{"id": 1, "question": "Who?", "answer": "Fleming", "split": "tune"}\n')
    with pytest.raises(RolegraphError, match=r"no rows of split 'heldout' \(splits: tune\)"):
        agent.read_rows(rows, "heldout")
    assert [r["id"] for r in agent.read_rows(rows, "tune")] == [1]


def test_compose_example_into_a_missing_directory_is_one_line(tmp_path):
    import subprocess

    done = subprocess.run([sys.executable, str(EXAMPLES / "compose.py"), str(tmp_path / "missing" / "g.yaml")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: {tmp_path / 'missing' / 'g.yaml'}")


def _script(name: str, *args: str, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env=env)


@pytest.mark.parametrize("script, args, option", [
    ("langgraph_app", ["--questions", "0"], "--questions"),  # searched for a graph, then KeyError: 'reply'
    ("revise_loop", ["--items", "-1"], "--items"),  # a [:-1] slice: 499 problems and exit 0
    ("revise_loop", ["--items", "0"], "--items"),
])
def test_an_example_given_a_count_below_one_says_so_in_one_line_and_exits_2(script, args, option, tmp_path):
    done = _script(script, *args, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == f"error: {option} must be at least 1, got {args[1]}"
    assert done.stdout == "" and list(tmp_path.iterdir()) == []  # nothing ran: no search, no problem


def test_the_mcp_example_server_answers_help_without_serving(tmp_path):
    """It used to start the stdio server and wait on stdin, printing nothing."""
    pytest.importorskip("mcp")
    done = _script("mcp_wiki_server", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:") and "stdin/stdout" in done.stdout and list(tmp_path.iterdir()) == []


def test_serve_client_with_no_server_is_one_line_exit_2():
    import socket

    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = _script("serve_client", "--base-url", f"http://127.0.0.1:{port}/v1")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: http://127.0.0.1:{port}/v1: cannot connect")


def test_serve_client_asking_for_a_model_not_served_is_one_line_exit_2(tmp_path):
    """A wrong --model printed openai.NotFoundError's whole traceback; the server's reason names what it serves."""
    from rolegraph.models.local import engine_status

    ok, why = engine_status()
    if not ok:
        pytest.skip(why)
    from tests.serve.conftest import one_node_graph, serve

    with serve(one_node_graph("local/smollm2-135m", "local"), ModelPool.builtin(), tmp_path) as server:
        done = _script("serve_client", "--model", "wrong", "--base-url", server.base_url)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {server.base_url}: HTTP 404: ")
    assert "`wrong`" in lines[0] and "`local`" in lines[0]


def test_serve_client_takes_the_key_of_a_keyed_server_from_the_variable_it_names(tmp_path):
    """A server started with --api-key-env refused the client (401) unless its source was edited to hold the key."""
    import os

    from rolegraph.models.local import engine_status

    ok, why = engine_status()
    if not ok:
        pytest.skip(why)
    from tests.serve.conftest import one_node_graph, serve

    key = "k-serve-client-test-0123"
    env = {**os.environ, "CLIENT_TEST_KEY": key}
    env.pop("UNSET_CLIENT_KEY", None)
    with serve(one_node_graph("local/smollm2-135m", "local"), ModelPool.builtin(), tmp_path, api_key=key) as server:
        base = ["--model", "local", "--base-url", server.base_url, "Say yes."]
        refused = _script("serve_client", *base, env=env)
        unset = _script("serve_client", *base, "--api-key-env", "UNSET_CLIENT_KEY", env=env)
        done = _script("serve_client", *base, "--api-key-env", "CLIENT_TEST_KEY", env=env)
    assert refused.returncode == 2 and f"error: {server.base_url}: HTTP 401" in refused.stderr
    assert unset.returncode == 2 and unset.stderr.strip() == (
        "error: --api-key-env UNSET_CLIENT_KEY: the environment variable is not set or empty")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and key not in done.stdout + done.stderr
