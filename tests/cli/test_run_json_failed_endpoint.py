"""`run --json` of a run whose endpoint keeps failing: the failed node's time includes the attempts and the
backoff it waited through (on the modelled clock of a serve-sim twin it read ~0 s while the run took
seconds), and the JSON carries the run's provenance (it was null: the compiled graph was lost with the
exception)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.cli.support import run_cli

BACKOFF_S = 0.5  # openai_backend's first backoff with no Retry-After (BACKOFF_BASE_S), written out here


class _Always500(BaseHTTPRequestHandler):
    """Every request is a 500 without Retry-After, so the client waits its own backoff."""

    def do_POST(self) -> None:  # noqa: N802  # http.server's name
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = b'{"error": {"message": "always failing", "type": "server_error"}}'
        self.send_response(500)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def failing_port():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Always500)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _files(tmp_path: Path, port: int) -> tuple[Path, Path]:
    """A serve-sim twin (answer_key: the run is on the modelled clock) on the failing port, one retry."""
    entry = {
        "id": "http/twin",
        "backend": "openai",
        "base_url": f"http://127.0.0.1:{port}/v1",
        "model": "sim/llama-3.2-1b",
        "answer_key": True,
        "params_b": 1.24,
        "layers": 16,
        "hidden": 2048,
        "max_retries": 1,
    }
    pool = tmp_path / "pool.yaml"
    pool.write_text(yaml.safe_dump({"models": [entry]}))
    graph = tmp_path / "g.yaml"
    graph.write_text(yaml.safe_dump({"name": "g", "nodes": [{"id": "a", "role": "solver", "model": "http/twin"}]}))
    return pool, graph


def _failed_run(tmp_path: Path, capsys, port: int) -> tuple[dict, float]:
    """`run --json` of the one-node graph: its JSON and the wall time the command took, measured here."""
    pool, graph = _files(tmp_path, port)
    t0 = time.perf_counter()
    code, out, err = run_cli(capsys, "run", graph, "--task", "gsm", "--pool", pool, "--json")
    wall = time.perf_counter() - t0
    assert code == 2 and "failed" in err and "Traceback" not in err
    return json.loads(out), wall


def test_a_failed_node_counts_the_time_its_retries_took(tmp_path, capsys, monkeypatch, failing_port):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    data, wall = _failed_run(tmp_path, capsys, failing_port)
    assert data["simulated"] is False  # nothing answered
    # two attempts with one backoff between them: the node took at least that long, and no longer than the run
    assert BACKOFF_S <= data["latency_s"] <= wall
    (node,) = data["nodes"]
    assert BACKOFF_S <= node["latency_s"] <= wall


def test_a_failed_runs_json_has_its_provenance(tmp_path, capsys, monkeypatch, failing_port):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    data, _ = _failed_run(tmp_path, capsys, failing_port)
    prov = data["provenance"]
    assert prov is not None and prov["seed"] == 0
    assert prov["models"]["http/twin"]["endpoint"] == f"http://127.0.0.1:{failing_port}/v1"
