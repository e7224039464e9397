"""examples/langgraph_app.py on a graph whose output node is inside a loop (examples/graphs/revise.yaml).

The state's nodes are keyed by round (`verify@1`, `verify@2`) while its output is the graph node (`verify`):
the app's reply read the bare id and died with a KeyError after streaming the rounds."""

from __future__ import annotations

import importlib.util
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "langgraph_app.py"
REVISE = ROOT / "examples" / "graphs" / "revise.yaml"
EXAMPLE_TIMEOUT_S = 180


def _example_module():
    spec = importlib.util.spec_from_file_location("langgraph_app_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_app_replies_when_the_output_node_is_in_a_loop(tmp_path):
    db = tmp_path / "app.sqlite"
    cmd = [sys.executable, str(EXAMPLE), str(REVISE), "--db", str(db), "--thread", "alice", "--questions", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=EXAMPLE_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert any(ln.strip().startswith("[verify@1] verifier on sim/llama-3.1-8b") for ln in lines)  # named by round
    reply = next(ln for ln in lines if ln.startswith("[reply] Answer: "))
    assert reply.endswith("(from the verifier at the end of the graph)")
    with sqlite3.connect(db) as conn:  # the thread is stored, its last checkpoint holding the reply
        threads = {row[0] for row in conn.execute("SELECT thread_id FROM checkpoints")}
    assert threads == {"alice"}
    assert reply.removeprefix("[reply] ") in lines[-1] and "(simulated)" in lines[-1]
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=EXAMPLE_TIMEOUT_S)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"thread 'alice' from {db}: last reply was {reply.removeprefix('[reply] ')!r}" in again.stdout


def test_output_run_is_the_last_round_of_a_loop_node():
    """Rounds of one node differ here in role only to tell them apart: the last one answers."""
    app = _example_module()
    state = {
        "output_node": "verify",
        "nodes": {
            "solve@1": {"id": "solve@1", "role": "solver"},
            "verify@1": {"id": "verify@1", "role": "first-round"},
            "solve@2": {"id": "solve@2", "role": "solver"},
            "verify@2": {"id": "verify@2", "role": "second-round"},
        },
    }
    assert app.output_run(state)["role"] == "second-round"
    plain = {"output_node": "fuse", "nodes": {"a": {"role": "solver"}, "fuse": {"role": "fuser"}}}
    assert app.output_run(plain)["role"] == "fuser"
