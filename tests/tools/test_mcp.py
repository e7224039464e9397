"""MCP tools against a real MCP server the tests start (the SDK's MCPServer, formerly FastMCP), over
stdio (started from a graph file) and streamable HTTP."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rolegraph.errors import NodeFailedError
from rolegraph.graphs.runtime import run_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.llamacpp_server import free_port
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tools.mcp import McpServerError, mcp_toolbox, mcp_tools
from rolegraph.tools.mcp_config import McpPermissionError, McpServerSpec
from rolegraph.tools.toolbox import ToolBox

pytest.importorskip("mcp")

SERVER = Path(__file__).parent / "fixtures" / "mcp_docs_server.py"
STDIO = McpServerSpec(name="docs", command=[sys.executable, str(SERVER)], timeout_s=20)
QUESTION = "Who discovered penicillin?"
SHUTDOWN_GRACE_S = 5
TERM_GRACE_S = 0.5
"""How long the HTTP server gets to stop by itself: it always waited out its graceful shutdown for a client stream
still open (5 s of every run of this module); nothing here checks how it stops, so it is killed soon after."""


@pytest.fixture(scope="module")
def http_server():
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(SERVER), "http", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield url
    # uvicorn's graceful shutdown waits for open streams (a client's SSE may still be open): kill after a grace period
    proc.terminate()
    try:
        proc.wait(timeout=TERM_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=SHUTDOWN_GRACE_S)


def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path, cache=False)


def searcher_graph(model="sim/llama-3.2-3b", server: McpServerSpec = STDIO) -> GraphSpec:
    return GraphSpec.model_validate({
        "name": "mcp-search",
        "nodes": [{"id": "search", "role": "searcher", "model": model, "params": {"tools": ["docs.search"]}},
                  {"id": "answer", "role": "solver", "model": "sim/llama-3.1-8b"}],
        "edges": [["search", "answer"]],
        "mcp_servers": [server.model_dump(exclude_defaults=True)]})


def item() -> Item:
    return Item(id="p1", question=QUESTION, gold="Alexander Fleming", family="qa")


async def _discover(servers, s):
    async with mcp_tools(servers, s, allow_commands=True) as tools:
        by = {t.name: t for t in tools}
        hit = await by["docs.search"].call(query="penicillin discovered")
        shout = await by["docs.shout"].call(text="hi")
        timeout = await by["docs.slow"].call(seconds=30)
        return sorted(by), by["docs.search"].openai_schema(), hit, shout, timeout


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_tools_are_discovered_and_called(transport, http_server, tmp_path):
    spec = STDIO if transport == "stdio" else McpServerSpec(name="docs", url=http_server, timeout_s=2)
    if transport == "stdio":
        spec = spec.model_copy(update={"timeout_s": 2})
    names, schema, hit, shout, timeout = asyncio.run(_discover([spec], settings(tmp_path)))
    assert names == ["docs.die", "docs.search", "docs.shout", "docs.slow"]
    assert schema["function"]["name"] == "docs__search"  # OpenAI function names take no dots
    assert schema["function"]["parameters"]["required"] == ["query"]
    assert hit.ok and hit.data["hits"][0]["title"] == "Penicillin"
    assert shout.ok and shout.text == "HI"
    assert not timeout.ok and "timed out after 2s" in timeout.text


def test_a_stdio_server_runs_only_when_allowed(tmp_path):
    s = settings(tmp_path)

    async def main(allow):
        async with mcp_tools([STDIO], s, allow_commands=allow) as tools:
            return len(tools)

    with pytest.raises(McpPermissionError, match="--allow-commands"):
        asyncio.run(main(False))
    (tmp_path / "settings.yaml").write_text(
        "mcp:\n  allow_commands:\n    - " + json.dumps([sys.executable, str(SERVER)]) + "\n")
    assert asyncio.run(main(False)) == 4  # on the user's allow-list: no flag needed
    assert asyncio.run(main(True)) == 4


def test_a_sim_searcher_queries_through_the_mcp_tool(tmp_path):
    s = settings(tmp_path)

    async def main():
        hub = ModelHub(ModelPool.builtin(), s)
        spec = searcher_graph()
        async with mcp_toolbox(spec.mcp_servers, s, ToolBox([]), allow_commands=True) as box:
            return await run_graph(spec, item(), hub, toolbox=box)

    res = asyncio.run(main())
    call = res.node("search").tools[0]
    assert call.tool == "docs.search" and call.arguments == {"query": QUESTION} and call.ok
    assert "Penicillin" in call.summary and "Alexander Fleming" in res.node("search").output


def test_a_server_dying_mid_call_is_a_named_node_error(tmp_path):
    s = settings(tmp_path)
    spec = GraphSpec.model_validate({
        "nodes": [{"id": "first", "role": "solver", "model": "sim/llama-3.2-3b"},
                  {"id": "tooler", "role": "solver", "model": "sim/llama-3.2-3b",
                   "params": {"tools": ["docs.die"], "tool_protocol": "text"}}],
        "edges": [["first", "tooler"]], "mcp_servers": [STDIO.model_dump(exclude_defaults=True)]})

    class CallsDie:  # a scripted model: asks for the tool (the sim never calls tools by itself)
        model_id = "sim/llama-3.2-3b"

        async def complete(self, messages, **kw):
            from rolegraph.chat.types import Completion
            return Completion(text='CALL docs.die {}', model_id=self.model_id)

    async def main():
        hub = ModelHub(ModelPool.builtin(), s)
        async with mcp_toolbox(spec.mcp_servers, s, ToolBox([]), allow_commands=True) as box:
            from rolegraph.graphs.runtime import CompiledGraph
            graph = CompiledGraph(spec, hub, toolbox=box)
            graph.plans["tooler"].model = CallsDie()
            return await graph.run(Item(id="d", question="What is 2+2?", gold="4", family="math"))

    with pytest.raises(NodeFailedError) as info:
        asyncio.run(main())
    assert "node 'tooler'" in str(info.value) and "MCP server 'docs' died during a call to 'die'" in str(info.value)
    partial = info.value.partial
    assert partial.node("first").answer is not None  # nothing else lost
    assert partial.node("tooler").error


def test_a_server_that_cannot_start_is_one_line(tmp_path):
    bad = McpServerSpec(name="nope", command=[sys.executable, "-c", "import sys; sys.exit(5)"], timeout_s=5)

    async def main():
        async with mcp_tools([bad], settings(tmp_path), allow_commands=True):
            pass

    with pytest.raises(McpServerError, match="MCP server 'nope' .* did not start"):
        asyncio.run(main())


def test_cli_run_json_shows_the_mcp_tool_call(tmp_path, capsys, monkeypatch):
    """The check: a graph file whose searcher names an MCP tool (stdio, started from the file, allowed with
    --allow-commands) runs with `rolegraph run --json`; the tool's result is in the searcher's tool_calls."""
    from rolegraph.cli import main
    from rolegraph.graphs.io import save_graph

    graph = save_graph(searcher_graph(), tmp_path / "g.yaml")
    data = tmp_path / "q.json"
    data.write_text(json.dumps([{"_id": "p1", "question": QUESTION, "answer": "Alexander Fleming",
                                 "supporting_facts": [], "context": [["Penicillin", ["Penicillin is a drug."]]]}]))
    with pytest.raises(SystemExit) as refused:
        main(["run", str(graph), "--task", "hotpotqa", "--data", str(data), "--json"])
    assert refused.value.code == 2 and "--allow-commands" in capsys.readouterr().err
    main(["run", str(graph), "--task", "hotpotqa", "--data", str(data), "--json", "--allow-commands"])
    out = json.loads(capsys.readouterr().out)
    calls = out["nodes"][0]["tool_calls"]
    assert out["nodes"][0]["id"] == "search" and calls[0]["tool"] == "docs.search" and calls[0]["ok"]
    assert "Alexander Fleming" in calls[0]["result"] and "Evidence:" in out["nodes"][0]["output"]
    assert out["nodes"][1]["output"] and out["nodes"][1]["tool_calls"] == []


@pytest.mark.slow
def test_a_real_model_searcher_through_mcp(tmp_path):
    from rolegraph.models.local import engine_status

    ok, why = engine_status()
    if not ok:
        pytest.skip(why)
    s = settings(tmp_path)
    spec = GraphSpec.model_validate({
        "nodes": [{"id": "search", "role": "searcher", "model": "local/smollm2-135m",
                   "params": {"tools": ["docs.search"], "max_tokens": 24}}],
        "mcp_servers": [STDIO.model_dump(exclude_defaults=True)]})

    async def main():
        hub = ModelHub(ModelPool.builtin(), s)
        try:
            async with mcp_toolbox(spec.mcp_servers, s, ToolBox([]), allow_commands=True) as box:
                return await run_graph(spec, QUESTION, hub, toolbox=box)
        finally:
            await hub.aclose()

    res = asyncio.run(main())
    calls = res.node("search").tools
    assert calls and all(c.tool == "docs.search" for c in calls) and res.node("search").output.startswith("Evidence:")


PENICILLIN = ["Who discovered penicillin?", "Which scientist discovered penicillin?", "Who first found penicillin?",
              "Penicillin was discovered by whom?", "Who is credited with discovering penicillin?",
              "Which physician discovered penicillin in 1928?", "Who discovered the antibiotic penicillin?",
              "Name the discoverer of penicillin.", "Who found penicillin at St Mary's Hospital?",
              "Who discovered penicillin in London?"]


def _penicillin_data(path: Path) -> Path:
    """Questions whose answer is in the MCP server's documents and not in the task's own corpus."""
    path.write_text(json.dumps([{"_id": f"p{i}", "question": q, "answer": "Alexander Fleming", "supporting_facts": [],
                                 "context": [["Penicillin", ["Penicillin is a drug."]]]}
                                for i, q in enumerate(PENICILLIN)]))
    return path


def _eval(args, capsys):
    from rolegraph.cli import main

    try:
        main(["eval", *args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")], err.strip()


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_cli_eval_connects_the_graphs_mcp_servers(transport, http_server, tmp_path, capsys, monkeypatch):
    """`rolegraph eval` connects the graph file's MCP server (stdio: started from the file, allowed with
    --allow-commands; or streamable HTTP) and the searcher's queries go through its tool: its documents (which
    hold the answer; the task's corpus does not) raise the accuracy over the same graph searching the task's
    corpus, on the same items."""
    from rolegraph.graphs.io import save_graph

    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    weak = "sim/llama-3.2-1b"  # a weak solver: evidence holding the gold moves it the most
    server = STDIO if transport == "stdio" else McpServerSpec(name="docs", url=http_server, timeout_s=20)
    with_mcp = searcher_graph(weak, server).model_copy(update={"name": "with-mcp"})
    with_mcp.nodes[1] = with_mcp.nodes[1].model_copy(update={"model": weak})
    plain = GraphSpec.model_validate({**with_mcp.model_dump(exclude_defaults=True), "name": "corpus-only",
                                      "mcp_servers": []})
    plain.nodes[0] = plain.nodes[0].model_copy(update={"params": {}})  # the built-in search over the task's corpus
    files = [str(save_graph(with_mcp, tmp_path / "mcp.yaml")), str(save_graph(plain, tmp_path / "plain.yaml"))]
    args = [*files, "--task", "hotpotqa", "--data", str(_penicillin_data(tmp_path / "q.json")), "--split", "all",
            "--json"]

    if transport == "stdio":  # a command from a graph file: refused in one line before any item, unless allowed
        code, rows, err = _eval(args, capsys)
        assert code == 2 and "--allow-commands" in err and len(err.splitlines()) == 1 and rows == []
        args = [*args, "--allow-commands"]
    code, rows, err = _eval(args, capsys)
    assert code == 0, err
    mcp, corpus = rows
    assert mcp["n"] == corpus["n"] == len(PENICILLIN) and mcp["failures"] == corpus["failures"] == 0
    assert mcp["accuracy"] >= corpus["accuracy"] + 0.2, (mcp["accuracy"], corpus["accuracy"])


def test_cli_eval_a_server_dying_is_a_named_node_error(tmp_path, capsys, monkeypatch):
    from rolegraph.graphs.io import save_graph

    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    dying = STDIO.model_copy(update={"env": {"DOCS_DIE_ON_SEARCH": "1"}})
    graph = save_graph(searcher_graph(server=dying), tmp_path / "g.yaml")
    code, rows, err = _eval([str(graph), "--task", "hotpotqa", "--data", str(_penicillin_data(tmp_path / "q.json")),
                             "--n", "3", "--split", "all", "--json", "--allow-commands"], capsys)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "node 'search'" in err and "MCP server 'docs'" in err and "3 of 3 items failed" in err
    assert rows and rows[0]["failures"] == 3  # what was computed is printed before the error


def test_cli_eval_refuses_mcp_servers_with_a_remote_executor(tmp_path, capsys, monkeypatch):
    from rolegraph.graphs.io import save_graph

    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    graph = save_graph(searcher_graph(), tmp_path / "g.yaml")
    code, rows, err = _eval([str(graph), "--task", "gsm", "--n", "2", "--executor", "ray", "--allow-commands"],
                            capsys)
    assert code == 2 and "local executor" in err and len(err.splitlines()) == 1, err


def test_cli_eval_add_to_connects_the_graphs_mcp_servers(tmp_path, capsys, monkeypatch):
    """`eval --add-to RUN_DIR` scores a graph with MCP servers on the run's paired items with its server
    connected (a stdio command only when allowed): the searcher's documents hold the answer, so the graph
    scores above the same graph searching the task's corpus, on the same paired items."""
    from rolegraph.cli import main
    from rolegraph.graphs.io import save_graph

    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    rows = [{"_id": f"p{i}", "question": q, "answer": "Alexander Fleming", "supporting_facts": [],
             "context": [["Penicillin", ["Penicillin is a drug."]]]} for i, q in enumerate(PENICILLIN * 4)]
    data = tmp_path / "q.json"
    data.write_text(json.dumps(rows))
    run = tmp_path / "run"
    try:
        main(["optimize", "--task", "hotpotqa", "--data", str(data), "--out", str(run), "--json", "--iterations", "1",
              "--samples", "1", "--batch", "2", "--validation-items", "4", "--test-items", "8", "--route-items", "8",
              "--budget", "42", "--optimizer", "random"])
    except SystemExit as exc:
        assert exc.code in (0, None)
    capsys.readouterr()
    weak = "sim/llama-3.2-1b"
    with_mcp = searcher_graph(weak).model_copy(update={"name": "with-mcp"})
    with_mcp.nodes[1] = with_mcp.nodes[1].model_copy(update={"model": weak})
    plain = GraphSpec.model_validate({**with_mcp.model_dump(exclude_defaults=True), "name": "corpus-only",
                                      "mcp_servers": []})
    plain.nodes[0] = plain.nodes[0].model_copy(update={"params": {}})
    files = [str(save_graph(with_mcp, tmp_path / "mcp.yaml")), str(save_graph(plain, tmp_path / "plain.yaml"))]

    code, got, err = _eval([*files, "--add-to", str(run), "--json"], capsys)
    assert code == 2 and "--allow-commands" in err and len(err.splitlines()) == 1 and got == []
    code, got, err = _eval([*files, "--add-to", str(run), "--json", "--allow-commands"], capsys)
    assert code == 0, err
    by = {(r["graph"], r["split"]): r for r in got}
    for split in {r["split"] for r in got}:
        mcp, corpus = by[("with-mcp", split)], by[("corpus-only", split)]
        assert mcp["n"] == corpus["n"] > 0
        assert mcp["accuracy"] >= corpus["accuracy"] + 0.2, (split, mcp["accuracy"], corpus["accuracy"])
