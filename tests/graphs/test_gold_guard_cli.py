"""`rolegraph run` of a graph in which a real node reads a simulated node's output: refused on a task item with
one line and exit 2 before the (loopback, recording) real endpoint gets any request; a real -> sim graph runs on
the same item and the real endpoint never sees its gold; a free question is not refused by this rule."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from rolegraph.chat.spec import ModelSpec
from tests.reliability.capture import CaptureServer
from tests.reliability.conftest import assert_clean_user_error, cli, pool_yaml

SIM = "sim/llama-3.2-3b"
REAL = "capture/real"
LEAK_WORDS = "reads the output of simulated node"


def _graph(path: Path, solver: str, fuser: str) -> Path:
    spec = {
        "name": "mix",
        "nodes": [{"id": "s1", "role": "solver", "model": solver}, {"id": "fuse", "role": "fuser", "model": fuser}],
        "edges": [["s1", "fuse"]],
        "output": "fuse",
    }
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _pool(path: Path, base_url: str) -> Path:
    return pool_yaml(path, [ModelSpec(id=REAL, backend="openai", base_url=base_url, model="plain", params_b=1.0)])


def test_run_on_a_task_item_refuses_sim_to_real_before_any_request(tmp_path):
    with CaptureServer() as server:
        pool = _pool(tmp_path / "pool.yaml", server.base_url)
        run = cli(["run", _graph(tmp_path / "g.yaml", SIM, REAL), "--task", "gsm", "--item", "0",
                   "--pool", pool, "--json"])
        bodies = list(server.bodies)
    line = assert_clean_user_error(run)
    assert LEAK_WORDS in line and "'fuse'" in line and "'s1'" in line and SIM in line and REAL in line
    assert bodies == []


def test_run_on_a_task_item_runs_real_to_sim_and_the_gold_stays_home(tmp_path):
    with CaptureServer() as server:
        pool = _pool(tmp_path / "pool.yaml", server.base_url)
        run = cli(["run", _graph(tmp_path / "g.yaml", REAL, SIM), "--task", "gsm", "--item", "0",
                   "--pool", pool, "--json"])
        seen = server.seen()
        calls = len(server.bodies)
    assert run.code == 0, run.err[-2000:]
    gold = str(json.loads(run.out)["gold"])
    assert calls == 1
    assert f"Final answer: {gold}".encode() not in seen and f'"{gold}"'.encode() not in seen


def test_a_free_question_is_not_refused_for_want_of_gold(tmp_path):
    with CaptureServer() as server:
        pool = _pool(tmp_path / "pool.yaml", server.base_url)
        run = cli(["run", _graph(tmp_path / "g.yaml", SIM, REAL), "What is 6 * 7?", "--pool", pool, "--json"])
    assert LEAK_WORDS not in run.err  # the sim solver's own refusal of a free question may still apply
