"""A compiled graph in a user's LangGraph app: SQLite checkpointer, node-by-node streaming, nesting, LangSmith."""
from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph

from rolegraph.errors import NoAnswerKeyError
from rolegraph.graphs.interop import (graph_context, graph_input, langsmith_status, load_app, node_names, node_updates,
                                      run_config,
                                      sqlite_checkpointer)
from rolegraph.graphs.io import save_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

SPEC = GraphSpec.model_validate({
    "name": "plan-vote",
    "nodes": [{"id": "plan", "role": "planner", "model": "sim/llama-3.1-8b"},
              {"id": "a", "role": "solver", "model": "sim/llama-3.2-3b"},
              {"id": "b-2 (small)", "role": "solver", "model": "sim/llama-3.2-1b"},
              {"id": "fuse", "role": "fuser", "model": "sim/llama-3.1-8b"}],
    "edges": [["plan", "a"], ["plan", "b-2 (small)"], ["a", "fuse"], ["b-2 (small)", "fuse"]]})
ITEM = Item(id="q7", question="A box holds 6 rows of 7 eggs. How many eggs?", gold="42", family="math")
LANGSMITH_TIMEOUT_S = 120


def hub(tmp_path) -> ModelHub:
    return ModelHub(ModelPool.builtin(), Settings(home=tmp_path / "home", cache=False))


def test_sqlite_checkpointer_and_node_by_node_updates_survive_a_restart(tmp_path):
    graph_file = tmp_path / "best_graph.yaml"
    save_graph(SPEC, graph_file)
    db = tmp_path / "state" / "checkpoints.sqlite"
    config = run_config(thread_id="user-1", graph=SPEC)

    async def first_session():
        async with sqlite_checkpointer(db) as saver:
            graph = load_app(graph_file, hub(tmp_path), checkpointer=saver)
            names = node_names(graph)
            seen = [(name, update) async for name, update in
                    node_updates(graph.pregel, graph_input(ITEM, seed=1), config, names=names,
                                 context=graph_context(graph, ITEM, seed=1))]
            return names, seen

    names, seen = asyncio.run(first_session())
    assert sorted(names.values()) == sorted(SPEC.node_ids) and "b-2 (small)" not in names  # not a safe task name
    assert all(names[n] == n for n in ("plan", "a", "fuse"))
    order = [name for name, _ in seen]
    assert order[0] == "plan" and sorted(order[1:3]) == ["a", "b-2 (small)"] and order[3] == "fuse"
    nodes = dict(seen[:4])
    assert all(nodes[n]["id"] == n and nodes[n]["output"] for n in SPEC.node_ids)
    assert nodes["plan"]["answer"] is None and nodes["fuse"]["answer"] is not None
    final = seen[-1][1]  # the entrypoint's own update: the graph's output
    assert final["output_node"] == "fuse" and final["answer"] == nodes["fuse"]["answer"]

    async def second_session():  # a new process would do exactly this: reopen the file, read the thread
        async with sqlite_checkpointer(db) as saver:
            app = load_app(SPEC, hub(tmp_path), checkpointer=saver).pregel
            state = await app.aget_state(config)
            history = [s async for s in app.aget_state_history(config)]
            return state, history

    state, history = asyncio.run(second_session())
    assert state.values == final and len(history) >= 1
    assert db.is_file() and db.stat().st_size > 0


class AppState(TypedDict, total=False):
    question: str
    seed: int
    answer_kind: str
    answer: str
    output_node: str
    nodes: dict
    reply: str


def test_graph_nested_in_a_users_state_graph_streams_inner_nodes(tmp_path):
    team = load_app(SPEC, hub(tmp_path))

    def reply(state: AppState) -> dict:
        return {"reply": f"Our agents answer {state['answer']}."}

    builder = StateGraph(AppState)
    builder.add_node("team", team.pregel)
    builder.add_node("reply", reply)
    builder.add_edge(START, "team")
    builder.add_edge("team", "reply")
    builder.add_edge("reply", END)

    async def go():
        async with sqlite_checkpointer(tmp_path / "app.sqlite") as saver:
            app = builder.compile(checkpointer=saver)
            config = run_config(thread_id="t")
            seen = [n async for n, _ in node_updates(app, graph_input(ITEM), config, names=node_names(team),
                                                      subgraphs=True, context=graph_context(team, ITEM))]
            return seen, (await app.aget_state(config)).values

    seen, values = asyncio.run(go())
    inner = [n for n in seen if n in SPEC.node_ids]
    assert sorted(inner) == sorted(SPEC.node_ids) and seen[-2:] == ["team", "reply"]
    assert seen.index("fuse") < seen.index("team")  # inner nodes stream before the outer node finishes
    assert values["reply"] == f"Our agents answer {values['answer']}." and values["output_node"] == "fuse"


def test_graph_input_for_items_and_free_questions(tmp_path):
    mc = Item(id="m", question="Which is a prime?", gold="B", family="mmlu", choices=["4", "7", "9", "12"])
    inp = graph_input(mc, seed=5)
    assert inp["question"].endswith("A. 4\nB. 7\nC. 9\nD. 12") and inp["answer_kind"] == "mmlu"
    assert set(inp) == {"question", "seed", "answer_kind"} and inp["seed"] == 5  # never the gold
    app = load_app(SPEC, hub(tmp_path))
    ctx = graph_context(app, mc, seed=5)
    assert ctx.answer_key.gold == "B" and ctx.seed == 5 and ctx.kind == "mmlu"  # sim models read it from here
    free = graph_input("Who wrote Hamlet?")
    assert free == {"question": "Who wrote Hamlet?", "seed": 0, "answer_kind": "qa"}
    assert graph_context(app, "Who wrote Hamlet?").answer_key is None
    with pytest.raises(NoAnswerKeyError):  # sim models only answer task items
        asyncio.run(app.pregel.ainvoke(free))


def test_langsmith_status_reads_the_environment_without_exposing_the_key():
    off = langsmith_status({})
    assert not off.enabled and off.project == "default" and "off" in off.describe()
    on = langsmith_status({"LANGSMITH_TRACING": "true", "LANGSMITH_API_KEY": "lsv2-secret",
                           "LANGSMITH_PROJECT": "graphs", "LANGSMITH_ENDPOINT": "http://127.0.0.1:9/"})
    assert on.enabled and on.project == "graphs" and on.endpoint == "http://127.0.0.1:9"
    assert on.api_key_env == "LANGSMITH_API_KEY" and "lsv2-secret" not in on.describe() + repr(on)
    legacy = langsmith_status({"LANGCHAIN_TRACING_V2": "TRUE", "LANGCHAIN_PROJECT": "old"})
    assert legacy.enabled and legacy.project == "old" and legacy.api_key_env is None
    assert "NO API KEY" in legacy.describe()
    cfg = run_config(graph=SPEC, tags=["exp"])
    assert cfg["run_name"] == "plan-vote" and cfg["tags"] == ["rolegraph", "exp"] and "configurable" not in cfg
    assert cfg["metadata"]["rolegraph_nodes"] == 4


class _Collector(BaseHTTPRequestHandler):
    """A loopback stand-in for the LangSmith API: records every request, answers `{}`."""

    requests: list[tuple[str, str, dict, bytes]] = []

    def _record(self) -> None:
        size = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(size) if size else b""
        self.requests.append((self.command, self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = do_PATCH = _record

    def log_message(self, *args) -> None:
        pass


TRACED_RUN = """
import asyncio
from langchain_core.tracers.langchain import wait_for_all_tracers
from rolegraph.graphs.interop import graph_context, graph_input, langsmith_status, load_app, run_config
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
import json, sys
spec = GraphSpec.model_validate_json(sys.argv[1])
item = Item.model_validate_json(sys.argv[2])
print(langsmith_status().describe())
graph = load_app(spec, ModelHub(ModelPool.builtin(), Settings.from_env(cache=False)))
out = asyncio.run(graph.pregel.ainvoke(graph_input(item), run_config(graph=spec), context=graph_context(graph, item)))
wait_for_all_tracers()
print(json.dumps({"answer": out["answer"]}))
"""


def test_langsmith_traces_the_run_when_its_env_vars_are_set(tmp_path):
    """LangGraph's own tracer posts the run and every node to the endpoint the env names (loopback here)."""
    _Collector.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**os.environ, "LANGSMITH_TRACING": "true", "LANGSMITH_API_KEY": "lsv2-test-key",
               "LANGSMITH_PROJECT": "rolegraph-tests", "LANGSMITH_ENDPOINT": f"http://127.0.0.1:{server.server_port}"}
        done = subprocess.run([sys.executable, "-c", TRACED_RUN, SPEC.model_dump_json(), ITEM.model_dump_json()],
                              env=env, capture_output=True, text=True, timeout=LANGSMITH_TIMEOUT_S)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("LangSmith tracing on: project 'rolegraph-tests' at http://127.0.0.1:")
    assert json.loads(lines[-1])["answer"]
    posts = [r for r in _Collector.requests if r[0] in ("POST", "PATCH")]
    assert posts and all(r[2].get("x-api-key") == "lsv2-test-key" for r in _Collector.requests)
    bodies = b"".join(r[3] for r in posts).decode("utf-8", "replace")
    assert '"session_name":"rolegraph-tests"' in bodies and '"name":"plan-vote"' in bodies
    for task_name in ("plan", "a", "fuse"):
        assert f'"name":"{task_name}"' in bodies  # each node is a traced run
    assert "lsv2-test-key" not in bodies  # the key goes in a header, never into the trace
    assert '"question":' in bodies and "answer_key" not in bodies and "distractors" not in bodies  # no gold sent


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "langgraph_app.py"
EXAMPLE_TIMEOUT_S = 180


def test_example_app_runs_a_best_graph_under_the_sqlite_checkpointer(tmp_path):
    """The example with a run directory's best_graph.yaml: node lines stream, the thread is checkpointed."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    save_graph(SPEC, run_dir / "best_graph.yaml")
    db = tmp_path / "app.sqlite"
    cmd = [sys.executable, str(EXAMPLE), str(run_dir), "--db", str(db), "--thread", "bob", "--questions", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=EXAMPLE_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    node_lines = [ln.strip() for ln in lines if ln.startswith("  [")]
    assert [ln.split("]")[0][1:] for ln in node_lines][0] == "plan" and len(node_lines) == len(SPEC.nodes)
    assert any(ln.startswith("[fuse] fuser on sim/llama-3.1-8b") for ln in node_lines)
    assert [ln.split("]")[0] for ln in lines if ln[:1] == "["] == ["[intake", "[agents", "[reply"]
    reply = next(ln for ln in lines if ln.startswith("[reply] Answer: "))
    assert "(simulated)" in lines[-1] and "last reply was" not in done.stdout
    with sqlite3.connect(db) as conn:  # LangGraph's own tables hold the thread
        threads = {row[0] for row in conn.execute("SELECT thread_id FROM checkpoints")}
    assert threads == {"bob"} and reply.removeprefix("[reply] ") in lines[-1]
