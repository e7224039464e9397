"""Failures say why: `rolegraph eval` and `rolegraph run` name the first failure's model and cause in one
line (connection refused, 401 with the key variable's name, context exceeded), and exit 2 when every
item failed. Against real endpoints: an unreachable loopback port, a server that refuses the key, and
llama.cpp's own server given a prompt longer than its context."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from rolegraph.models.llamacpp_server import free_port
from rolegraph.sim.server import ServerThread
from tests.cli.support import run_cli

KEY_ENV = "RG_FAILURES_TEST_KEY"
LONG_WORDS = 4000  # ~4,000+ tokens: twice the llama.cpp fixture's 2,048-token context


def _files(tmp_path: Path, entry: dict) -> tuple[Path, Path]:
    pool = tmp_path / "pool.yaml"
    pool.write_text(yaml.safe_dump({"models": [entry]}))
    graph = tmp_path / "g.yaml"
    graph.write_text(yaml.safe_dump({"name": "one", "nodes": [{"id": "s", "role": "solver", "model": entry["id"]}]}))
    return pool, graph


def _assert_one_error_line(err: str, *needles: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_eval_of_an_unreachable_endpoint_says_connection_refused_and_exits_2(tmp_path, capsys):
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    pool, graph = _files(tmp_path, {"id": "dead/model", "backend": "openai", "base_url": url, "model": "m"})
    code, out, err = run_cli(capsys, "eval", graph, "--task", "arith", "--n", "2", "--pool", pool, "--json")
    assert code == 2
    line = _assert_one_error_line(err, "dead/model", "connection refused", "2 of 2 items failed")
    assert url in line
    assert json.loads(out.splitlines()[0])["failures"] == 2  # what was computed is still printed


def _refusing_server() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat():
        return JSONResponse({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}},
                            status_code=401)

    return app


def test_run_and_eval_name_the_key_variable_on_a_401(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-not-the-right-one-0123456789")
    with ServerThread(_refusing_server()) as srv:
        entry = {"id": "keyed/model", "backend": "openai", "base_url": srv.base_url, "model": "m",
                 "api_key_env": KEY_ENV}
        pool, graph = _files(tmp_path, entry)
        code, _, err = run_cli(capsys, "run", graph, "What is 2 + 2?", "--pool", pool)
        assert code == 2
        line = _assert_one_error_line(err, "keyed/model", "401", KEY_ENV)
        assert "sk-not-the-right-one" not in line
        code, _, err = run_cli(capsys, "eval", graph, "--task", "arith", "--n", "2", "--pool", pool)
        assert code == 2
        _assert_one_error_line(err, "keyed/model", "401", KEY_ENV)


@pytest.fixture
def llamacpp_files(llamacpp, tmp_path):
    entry = llamacpp.spec("llamacpp/smollm2").model_dump(exclude_none=True, exclude_defaults=True)
    return _files(tmp_path, entry)


def test_a_prompt_over_the_context_says_context_exceeded(llamacpp_files, tmp_path, capsys):
    pool, graph = llamacpp_files
    question = "Count the words: " + " ".join(["apple"] * LONG_WORDS)
    code, _, err = run_cli(capsys, "run", graph, question, "--pool", pool)
    assert code == 2
    _assert_one_error_line(err, "llamacpp/smollm2", "context exceeded", "2048")
    data = tmp_path / "long.jsonl"
    data.write_text(json.dumps({"question": question, "answer": "4000"}) + "\n"
                    + json.dumps({"question": "What is 2 + 2?", "answer": "4"}) + "\n")
    code, out, err = run_cli(capsys, "eval", graph, "--task", "jsonl", "--data", data, "--split", "all", "--pool",
                             pool, "--json")
    # one item of two failed: a warning names it, the exit code stays 0 (the other item was measured)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    failed = [line for line in warnings if "items failed" in line]
    assert len(failed) == 1 and "1 of 2 items failed" in failed[0] and "context exceeded" in failed[0]
    # and before it was sent, the prompt was said to be too long for the window (agents/trim.py), once
    assert [line for line in warnings if line not in failed] == [
        line for line in warnings if "context window of 2048 tokens may cut its replies" in line]
    assert len(warnings) == 2
    assert json.loads(out.splitlines()[0])["failures"] == 1
