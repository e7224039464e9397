"""Secret hygiene: with a recognisable fake key in the environment, a search, an evaluation and a
failing endpoint that echoes the key back leave it nowhere: not in stdout or stderr, not in traces,
reports, the results store, the response cache, the run directory or any other file written.
"""
from __future__ import annotations

import json
import logging
import secrets
from contextlib import ExitStack

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from rolegraph.graphs.io import save_graph
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.pool import ModelPool
from rolegraph.sim.server import ServerThread

from rolegraph.chat.spec import ModelSpec

from .capture import CaptureServer
from .conftest import cli, files_containing, pool_yaml
from .searching import http_models

KEY_ENV = "ROLEGRAPH_TEST_PROVIDER_KEY"
MODELS = ("http/llama-3.2-1b", "http/llama-3.2-3b", "http/llama-3.1-8b")
AGENT = "capture/agent"


@pytest.fixture
def fake_key(monkeypatch) -> str:
    key = f"sk-rolegraph-FAKE-{secrets.token_hex(20)}"
    monkeypatch.setenv(KEY_ENV, key)
    return key


def _keyed_pool(tmp_path, base_url: str, agent_url: str | None = None):
    pool = http_models(ModelPool.builtin(), base_url)
    specs = [s.model_copy(update={"api_key_env": KEY_ENV}) for s in pool if s.id.startswith("http/")]
    if agent_url is not None:  # a real (unmarked) endpoint for the LLM feedback agent: twins are refused there
        specs.append(ModelSpec(id=AGENT, backend="openai", base_url=agent_url, model="agent", api_key_env=KEY_ENV))
    return pool_yaml(tmp_path / "pool.yaml", specs)


def _needles(key: str) -> list[bytes]:
    """The key, and distinctive pieces of it (a log line may cut or quote it)."""
    return [key.encode(), key[-24:].encode(), key[len("sk-rolegraph-FAKE-"):][:16].encode()]


def _assert_nowhere(key: str, roots, outputs: list[str], caplog) -> None:
    for text in outputs + [caplog.text]:
        for needle in _needles(key):
            assert needle.decode() not in text
    for root in roots:
        for needle in _needles(key):
            assert files_containing(root, needle) == [], needle


@pytest.fixture
def stack_enter():
    with ExitStack() as stack:
        yield stack.enter_context


def test_search_and_eval_never_write_the_key(serve, tmp_path, monkeypatch, fake_key, caplog, stack_enter):
    caplog.set_level(logging.DEBUG)
    server = serve()
    agent = stack_enter(CaptureServer())
    pool_file = _keyed_pool(tmp_path, server.base_url, agent.base_url)
    home, run_dir = tmp_path / "home", tmp_path / "run"
    monkeypatch.setenv("ROLEGRAPH_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    search = cli(["optimize", "--task", "gsm", "--task-size", "80", "--pool", pool_file,
                  "--models", ",".join(MODELS), "--roles", "solver,verifier,fuser", "--max-nodes", "4",
                  "--iterations", "4", "--samples", "2", "--batch", "4", "--validation-items", "4",
                  "--test-items", "6", "--agent-model", AGENT, "--out", run_dir, "--json"])
    assert search.code == 0, search.err[-2000:]
    assert agent.bodies  # the feedback agent really called its (keyed) endpoint
    summary = json.loads(search.out)
    assert summary["paid_calls"] > 0 and (run_dir / "report.md").is_file()
    graph = save_graph(GraphSpec(name="pair", nodes=[NodeSpec(id="a", role="solver", model=MODELS[0]),
                                                     NodeSpec(id="f", role="fuser", model=MODELS[1])],
                                 edges=[("a", "f")]), tmp_path / "pair.yaml")
    evaluation = cli(["eval", graph, "--task", "gsm", "--n", "6", "--pool", pool_file, "--json"])
    assert evaluation.code == 0, evaluation.err[-2000:]
    listing = cli(["results", "--json"])
    report = cli(["report", run_dir])
    assert listing.code == 0 and report.code == 0
    assert server.app.state.stats.completions > 0  # the key really was used for real requests
    outputs = [r.out + r.err for r in (search, evaluation, listing, report)]
    _assert_nowhere(fake_key, [tmp_path], outputs, caplog)
    assert (home / "cache.sqlite").is_file() and (home / "results.sqlite").is_file()


def _echo_app() -> FastAPI:
    """An endpoint that fails every call and quotes the caller's Authorization header back (some proxies do)."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        auth = request.headers.get("authorization", "")
        return JSONResponse({"error": {"message": f"upstream rejected header '{auth}' (token {auth[7:]})",
                                       "type": "invalid_request_error"}}, status_code=400)

    return app


def test_an_endpoint_echoing_the_key_in_its_errors_does_not_leak_it(tmp_path, monkeypatch, fake_key, caplog):
    caplog.set_level(logging.DEBUG)
    home = tmp_path / "home"
    monkeypatch.setenv("ROLEGRAPH_HOME", str(home))
    with ServerThread(_echo_app()) as echo:
        pool_file = _keyed_pool(tmp_path, echo.base_url)
        graph = save_graph(GraphSpec(name="one", nodes=[NodeSpec(id="a", role="solver", model=MODELS[0])]),
                           tmp_path / "one.yaml")
        evaluation = cli(["eval", graph, "--task", "gsm", "--n", "2", "--pool", pool_file, "--json"])
        run = cli(["run", graph, "--task", "gsm", "--pool", pool_file])
    assert evaluation.code == 2, evaluation.err[-2000:]  # every item failed: nothing was measured
    assert json.loads(evaluation.out)["failures"] == 2  # printed first: the failures were recorded, with their messages
    assert run.code == 2 and "Traceback" not in run.err
    assert "upstream rejected header" in run.err  # the server's message is shown, scrubbed
    _assert_nowhere(fake_key, [tmp_path], [evaluation.out + evaluation.err, run.out + run.err], caplog)


def test_the_key_is_sent_only_where_the_pool_says(tmp_path, monkeypatch, fake_key):
    """The API key goes to the pool entry's endpoint only when the entry names its variable; otherwise none."""
    seen: list[str] = []
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        seen.append(request.headers.get("authorization", ""))
        return JSONResponse({"error": {"message": "nope", "type": "invalid_request_error"}}, status_code=400)

    with ServerThread(app) as srv:
        pool = http_models(ModelPool.builtin(), srv.base_url)
        plain = pool_yaml(tmp_path / "plain.yaml", [s for s in pool if s.id.startswith("http/")])
        graph = save_graph(GraphSpec(name="one", nodes=[NodeSpec(id="a", role="solver", model=MODELS[0])]),
                           tmp_path / "one.yaml")
        monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
        cli(["run", graph, "--task", "gsm", "--pool", plain])
        cli(["run", graph, "--task", "gsm", "--pool", _keyed_pool(tmp_path, srv.base_url)])
    assert seen and seen[0] == "Bearer not-needed" and seen[-1] == f"Bearer {fake_key}"


def test_the_byte_search_finds_a_planted_key(tmp_path, fake_key):
    """Control: the search above would see a key written to a SQLite store (WAL included) or a file."""
    import sqlite3

    db = sqlite3.connect(tmp_path / "s.sqlite")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (v TEXT)")
    db.execute("INSERT INTO t VALUES (?)", (f"prefix {fake_key} suffix",))
    db.commit()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "trace.json").write_text(json.dumps({"x": fake_key[-24:]}))
    found = {p.name for p in files_containing(tmp_path, fake_key[-24:].encode())}
    db.close()
    assert "trace.json" in found and found & {"s.sqlite", "s.sqlite-wal"}
