"""`rolegraph serve-sim` and `rolegraph serve` as real subprocesses (answering a plain `openai` client at the
address their startup line prints), and one-line bad input."""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import httpx
import openai
import pytest

from rolegraph.cli import main
from rolegraph.items import AnswerKey
from rolegraph.settings import HOME_ENV

STARTUP_TIMEOUT_S = 60.0
BOUND_URL = re.compile(r" at (http://127\.0\.0\.1:(\d+)/v1)")


def default_sigint() -> None:
    """In the child before it runs Python: SIGINT at its default action, whatever the test process inherited. A
    pytest started with SIGINT ignored (a background job of a script) passed that on, Python then installs no
    KeyboardInterrupt handler, uvicorn's re-raise of the SIGINT it caught is ignored too, and the server exited 0,
    not 130: a stop test must not depend on how pytest was launched."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Started:
    """A `rolegraph serve`/`serve-sim` process started with `--port 0`: its stderr is read by a thread (so the pipe
    never fills), and `base_url` is the address its startup line printed."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.proc = subprocess.Popen([sys.executable, "-m", "rolegraph", *args, "--port", "0"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                                     preexec_fn=default_sigint)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.err: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.startup_line = self._startup_line()
        found = BOUND_URL.search(self.startup_line)
        assert found, self.startup_line
        self.base_url, self.port = found.group(1), int(found.group(2))

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.err.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _startup_line(self) -> str:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"{self.proc.args[3]} exited early: {''.join(self.err)[-2000:]}")
            if line.startswith(("serve-sim:", "serve:")):
                return line.strip()
        raise AssertionError(f"no startup line within {STARTUP_TIMEOUT_S:g} s: {''.join(self.err)[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def start(tmp_path):
    """Start `rolegraph ARGS --port 0` with a fresh home; stopped at the end of the test."""
    started: list[Started] = []

    def go(*args: str) -> Started:
        started.append(Started(list(args), {**os.environ, HOME_ENV: str(tmp_path / "home")}))
        return started[-1]

    yield go
    for s in started:
        s.stop()


@pytest.fixture
def serve_sim(start):
    return lambda *args: start("serve-sim", *args).base_url


def test_serve_sim_port_0_prints_the_port_it_bound(start):
    started = start("serve-sim")
    assert started.port != 0  # what the kernel chose, not the ':0' asked for
    r = httpx.get(f"{started.base_url}/models", timeout=10)  # the printed address is where it answers
    assert r.status_code == 200 and "sim/llama-3.1-8b" in {m["id"] for m in r.json()["data"]}


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


@pytest.mark.parametrize(("signame", "exit_code"), [("SIGINT", 130), ("SIGTERM", -15)])
def test_a_stop_signal_ends_serve_sims_requests_in_flight_with_a_503_and_its_own_line(start, signame, exit_code):
    """serve-sim stopped with requests in flight printed uvicorn's `ERROR: Cancel 2 running task(s)` and an ASGI
    traceback per request, and its clients got a plain-text 500; it is behind `serve`'s guard now."""
    from rolegraph.serve.guard import SHUTDOWN_CODE, SHUTDOWN_MESSAGE

    started = start("serve-sim", "--fault-rate", "1", "--faults", "timeout", "--hang-s", "60")
    body = {"model": "sim/llama-3.1-8b", "messages": [{"role": "user", "content": "What is 2+2?"}]}
    replies: dict[int, object] = {}
    ready = threading.Barrier(3)

    def ask(i: int) -> None:
        with httpx.Client(base_url=started.base_url, timeout=30) as client:
            client.get("/models").raise_for_status()  # connected and served: the next request is read at once
            ready.wait()
            try:
                replies[i] = client.post("/chat/completions", json=body)
            except httpx.HTTPError as exc:
                replies[i] = exc

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    ready.wait(30)
    time.sleep(0.5)  # the two requests reach the server's loop (each then hangs for 60 s, its injected timeout)
    started.proc.send_signal(getattr(signal, signame))
    for t in threads:
        t.join(30)
    code = started.proc.wait(30)
    for reply in replies.values():
        assert isinstance(reply, httpx.Response), f"a request broke off: {reply!r}"
        assert reply.status_code == 503, reply.text
        assert reply.json()["error"]["message"] == SHUTDOWN_MESSAGE and reply.json()["error"]["code"] == SHUTDOWN_CODE
    assert len(replies) == 2 and code == exit_code
    time.sleep(0.2)  # the stderr reader thread drains the pipe
    err = "".join(started.err)
    assert "Traceback" not in err and "ERROR" not in err, err[-3000:]
    assert "serve-sim: stopping: 2 request(s) in flight ended with 503 server_shutting_down" in err, err[-3000:]


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



def test_an_empty_model_id_is_refused_in_one_line(capsys, tmp_path, monkeypatch):
    """`--model-id ""` used to fall back to the graph's name without a word."""
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    graph = tmp_path / "g.yaml"
    graph.write_text("name: g\nnodes: [{id: a, role: solver, model: local/smollm2-135m}]\n")
    with pytest.raises(SystemExit) as exit_:
        main(["serve", str(graph), "--port", "0", "--model-id", " "])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and err.startswith("error: --model-id must name the model") and len(err.splitlines()) == 1

TERSE_ROLES = """roles:
  - name: terse
    prompt: |
      Role: terse.
      You are a helpful assistant. Answer in a few words.
    answers: false
    max_tokens: 16
    temperature: 0.0
"""
TERSE_GRAPH = """name: terse-smol
nodes:
  - {id: answer, role: terse, model: llamacpp/smollm2-135m, params: {max_tokens: 16, temperature: 0.0}}
"""


@pytest.fixture
def terse_files(tmp_path, llamacpp):
    """A graph whose only node has a role from a roles file, on llama.cpp's server (SmolLM2-135M)."""
    import yaml

    pool = tmp_path / "pool.yaml"
    pool.write_text(yaml.safe_dump({"models": [llamacpp.spec().model_dump(exclude_defaults=True)]}))
    (tmp_path / "roles.yaml").write_text(TERSE_ROLES)
    (tmp_path / "terse.yaml").write_text(TERSE_GRAPH)
    return tmp_path / "terse.yaml", pool, tmp_path / "roles.yaml"


def test_serve_with_a_roles_file_answers_a_real_request(start, terse_files):
    graph, pool, roles = terse_files
    started = start("serve", str(graph), "--pool", str(pool), "--roles-file", str(roles))
    assert "graph 'terse-smol'" in started.startup_line and started.port != 0
    client = openai.OpenAI(base_url=started.base_url, api_key="none", max_retries=0, timeout=120)
    reply = client.chat.completions.create(model="terse-smol", messages=[{"role": "user", "content": "Say hello."}])
    assert reply.choices[0].message.content.strip() and reply.usage.completion_tokens > 0
    nodes = reply.model_extra["rolegraph"]["nodes"]
    assert [(n["id"], n["role"], n["model"]) for n in nodes] == [("answer", "terse", "llamacpp/smollm2-135m")]
    client.close()


@pytest.mark.parametrize("case, needle", [
    ("no roles file", "terse"),  # the graph's role is unknown without the file
    ("missing file", "roles file not found"),
    ("bad field", "unknown field 'promt'"),
])
def test_serve_roles_file_mistakes_are_one_line_exit_2(case, needle, terse_files, tmp_path, monkeypatch, capsys):
    graph, pool, roles = terse_files
    args = ["serve", str(graph), "--pool", str(pool), "--port", "0"]
    if case == "missing file":
        args += ["--roles-file", str(tmp_path / "nope.yaml")]
    elif case == "bad field":
        roles.write_text(TERSE_ROLES.replace("prompt:", "promt:"))
        args += ["--roles-file", str(roles)]
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and needle in err and len(err.splitlines()) == 1, err


@pytest.fixture
def busy_port():
    """A loopback port another socket is listening on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_serve_sim_on_a_busy_port_is_one_line_exit_2(busy_port, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    with pytest.raises(SystemExit) as exit_:
        main(["serve-sim", "--port", str(busy_port)])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and len(err.splitlines()) == 1
    assert f"127.0.0.1:{busy_port}" in err and "in use" in err


def test_serve_on_a_busy_port_is_one_line_exit_2(busy_port, terse_files, capsys, monkeypatch, tmp_path):
    graph, pool, roles = terse_files
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    with pytest.raises(SystemExit) as exit_:
        main(["serve", str(graph), "--pool", str(pool), "--roles-file", str(roles), "--port", str(busy_port)])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and len(err.splitlines()) == 1 and "in use" in err


DYING_DOCS_SERVER = """
import os
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("docs")
DIE_MARKER = sys.argv[1]


@server.tool()
def search(query: str) -> dict:
    \"\"\"Search the documents.\"\"\"
    if os.path.exists(DIE_MARKER):  # dies once, in the middle of a call, when the test asks it to
        os.remove(DIE_MARKER)
        print("dying on purpose", file=sys.stderr, flush=True)
        os._exit(3)
    return {"hits": [{"title": "Penicillin", "url": "https://docs.example/penicillin",
                      "text": "Penicillin was discovered by Alexander Fleming in 1928."}]}


server.run()
"""


def mcp_graph(tmp_path, command: list[str], model: str = "remote/unused", role: str = "solver") -> str:
    import yaml

    graph = tmp_path / "mcp.yaml"
    graph.write_text(yaml.safe_dump({
        "name": "mcp-served",
        "nodes": [{"id": "search", "role": role, "model": model, "params": {"tools": ["docs.search"], "max_tokens": 8}}],
        "mcp_servers": [{"name": "docs", "command": command, "timeout_s": 20}]}))
    return str(graph)


@pytest.mark.parametrize("case", ["missing program", "exits at startup"])
def test_serve_with_an_mcp_server_that_cannot_start_is_one_line_exit_2(case, tmp_path, capsys, monkeypatch):
    """Like `run` and `eval`: the servers connect before uvicorn starts, so a failure is the CLI's one line,
    not uvicorn's lifespan traceback and exit code 3."""
    import yaml

    pytest.importorskip("mcp")

    pool = tmp_path / "pool.yaml"  # a real (not simulated) model, never called: serving stops before any request
    pool.write_text(yaml.safe_dump({"models": [{"id": "remote/unused", "backend": "openai",
                                                "base_url": "http://127.0.0.1:9/v1"}]}))
    command = ([str(tmp_path / "no-such-server")] if case == "missing program"
               else [sys.executable, "-c", "import sys; sys.exit('bad server config')"])
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    with pytest.raises(SystemExit) as exit_:
        main(["serve", mcp_graph(tmp_path, command), "--pool", str(pool), "--port", "0", "--allow-commands"])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("error: MCP server 'docs'") and "did not start" in err
    assert ("No such file" in err) if case == "missing program" else ("last stderr line: bad server config" in err)


FINDER_ROLES = """roles:
  - name: finder
    prompt: |
      Role: finder.
      Write one search query for the question.
    mode: search
    answers: false
    max_tokens: 8
    temperature: 0.0
"""


def test_serve_says_when_an_mcp_server_dies_and_restarts_it(start, tmp_path, llamacpp):
    """A served graph outlives its MCP server: the request during which it dies fails (502, naming the server),
    the serve console gets one line saying so, and the next request restarts it."""
    import yaml

    pytest.importorskip("mcp")

    pool = tmp_path / "pool.yaml"
    pool.write_text(yaml.safe_dump({"models": [llamacpp.spec().model_dump(exclude_defaults=True)]}))
    (tmp_path / "roles.yaml").write_text(FINDER_ROLES)
    script, marker = tmp_path / "docs_server.py", tmp_path / "die-now"
    script.write_text(DYING_DOCS_SERVER)
    graph = mcp_graph(tmp_path, [sys.executable, str(script), str(marker)], "llamacpp/smollm2-135m", "finder")
    started = start("serve", graph, "--pool", str(pool), "--roles-file", str(tmp_path / "roles.yaml"),
                    "--allow-commands")
    client = openai.OpenAI(base_url=started.base_url, api_key="none", max_retries=0, timeout=120)
    ask = {"model": "mcp-served", "messages": [{"role": "user", "content": "Who discovered penicillin?"}]}

    assert "Penicillin" in client.chat.completions.create(**ask).choices[0].message.content
    marker.write_text("")
    with pytest.raises(openai.APIStatusError) as died:
        client.chat.completions.create(**ask)
    assert died.value.status_code == 502 and "MCP server 'docs' died" in died.value.message
    reply = client.chat.completions.create(**ask)  # restarted: answers again
    assert "Penicillin" in reply.choices[0].message.content
    client.close()
    console = [line for line in started.err if "MCP server 'docs'" in line]
    assert len(console) == 2, started.err
    assert console[0].startswith("serve: MCP server 'docs' died during a call to 'search'")
    assert "dying on purpose" in console[0] and "restarts on the next call" in console[0]
    assert console[1].startswith("serve: MCP server 'docs' restarted")
