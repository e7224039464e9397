"""Gold answers stay in the process: a real model's request bodies, the LangGraph state a checkpointer
stores (what LangSmith would upload) and the response cache's keys never hold them; only the scorer
(and simulated models, in-process or a serve-sim twin on loopback) reads the answer key.

The real model here is `CaptureServer`, an OpenAI-compatible server written for these tests that
records every body it is sent: what it holds is exactly what left the process.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
from pathlib import Path

import pytest
import yaml

from rolegraph.graphs.interop import graph_context, graph_input, load_app, run_config, sqlite_checkpointer
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.cache import cache_key
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.chat.spec import ModelSpec
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task

from .capture import CaptureServer
from .conftest import assert_clean_user_error, cli, files_containing, pool_yaml

REAL_ID = "capture/plain"
N_ITEMS = 4


def _task_file(path: Path) -> tuple[Path, list[str], list[str]]:
    """A jsonl task whose every gold answer and question carry a token found nowhere else."""
    golds = [f"GOLD{secrets.token_hex(6)}" for _ in range(N_ITEMS)]
    questions = [f"Q{secrets.token_hex(6)}" for _ in range(N_ITEMS)]
    lines = [json.dumps({"question": f"What is the code word of box {q}?", "answer": g})
             for q, g in zip(questions, golds)]
    path.write_text("\n".join(lines) + "\n")
    return path, golds, questions


def _graph(path: Path, model: str) -> Path:
    """Planner -> two solvers -> verifier -> fuser, every node on `model` (all roles see the question)."""
    spec = {"name": "five-roles", "nodes": [
        {"id": "plan", "role": "planner", "model": model}, {"id": "s1", "role": "solver", "model": model},
        {"id": "s2", "role": "solver", "model": model}, {"id": "check", "role": "verifier", "model": model},
        {"id": "out", "role": "fuser", "model": model}],
        "edges": [["plan", "s1"], ["plan", "s2"], ["s1", "check"], ["s1", "out"], ["s2", "out"], ["check", "out"]]}
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _real(base_url: str) -> ModelSpec:
    return ModelSpec(id=REAL_ID, backend="openai", base_url=base_url, model="plain", params_b=1.0)


def test_no_gold_reaches_a_real_endpoint_through_rolegraph_eval(tmp_path):
    data, golds, questions = _task_file(tmp_path / "items.jsonl")
    with CaptureServer() as server:
        pool = pool_yaml(tmp_path / "pool.yaml", [_real(server.base_url)])
        run = cli(["eval", _graph(tmp_path / "g.yaml", REAL_ID), "--task", "jsonl", "--data", data, "--split", "all",
                   "--pool", pool, "--json", "--store", tmp_path / "results.sqlite"])
        seen = server.seen()
    assert run.code == 0, run.err
    result = json.loads(run.out.splitlines()[0])
    assert result["n"] == N_ITEMS and result["failures"] == 0
    assert len(server.bodies) == N_ITEMS * 5  # every node of every item called the server
    assert all(q.encode() in seen for q in questions)  # the capture sees the content it was sent
    assert [g for g in golds if g.encode() in seen] == []
    assert b"answer_key" not in seen and b'"rolegraph"' not in seen  # not even an empty sim field
    home = Path(Settings.from_env().home)
    for gold in golds:  # the response cache (keys and completions) holds no gold either
        assert files_containing(home, gold.encode()) == []


def test_a_langgraph_sqlite_checkpointer_holds_no_gold_for_a_real_model(tmp_path):
    """What a checkpointer stores is what LangSmith would upload: the state, the tasks' writes."""
    data, golds, questions = _task_file(tmp_path / "items.jsonl")
    task = get_task("jsonl", data=data)
    items = task.items("all")
    db = tmp_path / "checkpoints.sqlite"
    with CaptureServer() as server:
        pool = ModelPool(list(ModelPool.builtin()) + [_real(server.base_url)])
        spec = GraphSpec.model_validate(yaml.safe_load(_graph(tmp_path / "g.yaml", REAL_ID).read_text()))

        async def go() -> list[dict]:
            hub = ModelHub(pool, Settings(home=tmp_path / "home", cache=False))
            outs = []
            try:
                async with sqlite_checkpointer(db) as saver:
                    graph = load_app(spec, hub, checkpointer=saver)
                    for i, item in enumerate(items):
                        context = graph_context(graph, item)
                        assert context.answer_key is None  # no simulated node: nobody may read the key
                        outs.append(await graph.pregel.ainvoke(graph_input(item), run_config(thread_id=f"t{i}"),
                                                               context=context))
            finally:
                await hub.aclose()
            return outs

        outs = asyncio.run(go())
    assert [o["answer"] for o in outs] == ["7"] * N_ITEMS
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        stored = b"".join(str(v).encode() if not isinstance(v, bytes) else v
                          for t in tables for row in conn.execute(f"SELECT * FROM {t}") for v in row)
    assert all(q.encode() in stored for q in questions)  # the question is in the checkpointed state
    assert [g for g in golds if g.encode() in stored] == [] and b"answer_key" not in stored


def test_answer_key_on_a_remote_endpoint_is_refused_in_one_line(tmp_path):
    far = {"id": "far/twin", "backend": "openai", "base_url": "https://api.example.com/v1", "answer_key": True}
    (tmp_path / "far.yaml").write_text(yaml.safe_dump({"models": [far]}))
    line = assert_clean_user_error(cli(["models", "--pool", tmp_path / "far.yaml"]))
    assert "answer_key" in line and "loopback" in line and "api.example.com" in line
    for url in ("http://127.0.0.1:8000/v1", "http://127.8.9.10/v1", "http://localhost:9/v1", "http://[::1]:9/v1"):
        assert ModelSpec(id="t/x", backend="openai", base_url=url, answer_key=True).simulated
    for url in ("http://10.0.0.2/v1", "http://localhost.example.com/v1", "http://127.0.0.1.nip.io/v1", None):
        with pytest.raises(ValueError, match="loopback"):
            ModelSpec(id="t/x", backend="openai", base_url=url, answer_key=True)


def test_the_cache_key_of_a_real_model_ignores_the_answer_key_and_a_sim_models_does_not(tmp_path):
    item = Item(id="i", question="What is 2 + 2?", gold="GOLD4", family="math")
    args = dict(messages=[{"role": "user", "content": item.question}], temperature=0.0, max_tokens=64, seed=0,
                tools=None, sample=0)
    real, sim = _real("http://127.0.0.1:9/v1"), ModelPool.builtin().get("sim/llama-3.2-3b")
    assert cache_key(real, **args, answer_key=item.answer_key()) == cache_key(real, **args, answer_key=None)
    assert cache_key(sim, **args, answer_key=item.answer_key()) != cache_key(sim, **args, answer_key=None)
