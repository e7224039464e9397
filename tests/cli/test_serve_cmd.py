"""`rolegraph serve-sim`: a real subprocess answering a plain `openai` client, and one-line bad input."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import openai
import pytest

from rolegraph.cli import main
from rolegraph.items import AnswerKey
from rolegraph.settings import HOME_ENV

STARTUP_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(proc: subprocess.Popen, base_url: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve-sim exited early: {proc.stderr.read()}")
        try:
            if httpx.get(f"{base_url}/models", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("serve-sim did not become ready")


@pytest.fixture
def serve_sim(tmp_path):
    procs = []

    def start(*args: str) -> str:
        port = _free_port()
        env = {**os.environ, HOME_ENV: str(tmp_path / "home")}
        proc = subprocess.Popen([sys.executable, "-m", "rolegraph", "serve-sim", "--port", str(port), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        procs.append(proc)
        base_url = f"http://127.0.0.1:{port}/v1"
        _wait_ready(proc, base_url)
        return base_url

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_serve_sim_answers_a_plain_openai_client(serve_sim):
    base_url = serve_sim("--seed", "3")
    client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=30)
    assert "sim/llama-3.1-8b" in {m.id for m in client.models.list()}
    key = AnswerKey(item_id="q1", gold="391", family="math")
    resp = client.chat.completions.create(
        model="sim/llama-3.1-8b", seed=1,
        messages=[{"role": "system", "content": "Role: solver."}, {"role": "user", "content": "Question:\n17*23?"}],
        extra_body={"rolegraph": {"answer_key": key.model_dump(), "sample": 0}})
    assert resp.choices[0].message.content and resp.usage.completion_tokens > 0
    with pytest.raises(openai.BadRequestError, match="answers task items only|answer key"):
        client.chat.completions.create(model="sim/llama-3.1-8b", messages=[{"role": "user", "content": "hi"}])
    client.close()


def test_serve_sim_with_faults_still_serves_through_retries(serve_sim):
    base_url = serve_sim("--fault-rate", "0.5", "--faults", "500,503,garbage", "--seed", "1")
    client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=30)
    key = AnswerKey(item_id="q2", gold="12", family="math").model_dump()
    outcomes = []
    for _ in range(12):
        try:
            resp = client.chat.completions.create(model="sim/llama-3.2-1b", messages=[{"role": "user", "content": "Question:\n3*4?"}],
                                                  extra_body={"rolegraph": {"answer_key": key}})
            outcomes.append("ok" if not isinstance(resp, str) else "garbage")
        except openai.InternalServerError:
            outcomes.append("5xx")
    client.close()
    assert "ok" in outcomes and len(set(outcomes)) > 1


@pytest.mark.parametrize("args, needle", [
    (["--fault-rate", "2"], "between 0 and 1"),
    (["--fault-rate", "0.2", "--faults", "429,bogus"], "bogus"),
    (["--latency-scale", "-1"], "latency-scale"),
    (["--port", "70000"], "port"),
])
def test_bad_serve_options_are_one_line_exit_2(args, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    with pytest.raises(SystemExit) as exit_:
        main(["serve-sim", *args])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and needle in err and len(err.splitlines()) == 1


def test_serving_a_router_file_is_refused_in_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    router = tmp_path / "router.yaml"
    router.write_text("kind: router\nname: r\nstages:\n"
                      "  - graph: {nodes: [{id: a, role: solver, model: sim/llama-3.2-1b}]}\n")
    with pytest.raises(SystemExit) as exit_:
        main(["serve", str(router), "--port", "0"])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and "router cannot be served" in err and len(err.splitlines()) == 1
