"""A search stopped by request timeouts is resumed once the user raises `timeout_s` in the pool file, as the stop's
advice says: end to end through the command line, against a real loopback server that turns slow mid-search.

Why: the stop said "fix the cause and continue with --resume", but the run store refused the edited pool file
(its sha256 changed) and the old file timed out again on the same seeded requests, so the work was lost (SmolLM2
on llama.cpp at `timeout_s: 3`)."""

from __future__ import annotations

import asyncio
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml

from rolegraph.models.pool import ModelPool
from rolegraph.optimize import loop
from rolegraph.optimize.rundir import RunStore
from rolegraph.sim.server import ServerThread
from tests.cli.support import cli
from tests.models.fake_servers import RecordingChat

SIM = ("sim/llama-3.2-1b", "sim/llama-3.2-3b")
TIMEOUT_S = 0.2  # what the pool file says first: shorter than the slow replies
RAISED_S = 5.0  # what the user raises it to: longer than them
SLOW_S = 0.6  # every reply once the server turns slow
STOP_AFTER = 1  # the server turns slow right after this iteration's checkpoint
ARGS = ["--task", "gsm", "--task-size", "80", "--roles", "solver,verifier", "--max-nodes", "2", "--optimizer",
        "random", "--iterations", "3", "--samples", "2", "--batch", "4", "--validation-items", "4", "--test-items",
        "4", "--route-items", "0"]


class TurnsSlow(RecordingChat):
    """Answers at once until `slow` is set, then every request after SLOW_S."""

    def __init__(self) -> None:
        super().__init__()
        self.slow = threading.Event()

    async def reply(self, body: dict) -> Any:
        if self.slow.is_set():
            await asyncio.sleep(SLOW_S)
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "Final answer: 7"}}],
                "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}}


def write_pool(path: Path, base_url: str, timeout_s: float) -> Path:
    """Real (openai-backend) twins of two sim models' sizes on the loopback server, free, with `timeout_s`."""
    builtin = ModelPool.builtin()
    entries = [{"id": "llc/" + m.split("/", 1)[1], "backend": "openai", "base_url": base_url, "model": m,
                "params_b": builtin.get(m).params_b, "layers": builtin.get(m).layers, "hidden": builtin.get(m).hidden,
                "timeout_s": timeout_s, "max_retries": 1} for m in SIM]
    path.write_text(yaml.safe_dump({"models": entries}, sort_keys=False))
    return path


@pytest.fixture
def server():
    slow = TurnsSlow()
    with ServerThread(slow.app) as thread:
        yield slow, thread.base_url


def test_a_search_stopped_by_timeouts_resumes_after_timeout_s_is_raised(tmp_path, capsys, monkeypatch, server):
    slow, base_url = server
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    pool, run = write_pool(tmp_path / "pool.yaml", base_url, TIMEOUT_S), tmp_path / "run"
    real_save = loop.save_checkpoint

    def save_then_slow(store, ctx, optimizer, iteration, phase, final=None):
        real_save(store, ctx, optimizer, iteration, phase, final)
        if iteration == STOP_AFTER and phase == "search":
            slow.slow.set()

    with monkeypatch.context() as m:
        m.setattr(loop, "save_checkpoint", save_then_slow)
        code, _, err = cli(["optimize", *ARGS, "--pool", pool, "--out", run], capsys)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err, err
    assert f"timed out after {TIMEOUT_S:g} s" in errors[0]
    assert "raise its timeout_s in the pool file" in errors[0] and "continue with --resume" in errors[0]
    with closing(RunStore.open(run)) as store:
        assert store.checkpoint()[0] == STOP_AFTER  # stopped at the checkpoint the slow server came after

    write_pool(pool, base_url, RAISED_S)  # the advice, followed
    code, _, err = cli(["optimize", "--resume", run, "--json"], capsys)
    assert code == 0, err
    said = [line for line in err.splitlines() if "changed since the run read it" in line]
    assert said == [
        f"warning: pool file {pool.resolve()} changed since the run read it, but only in timeout_s of "
        f"'llc/llama-3.2-1b' ({TIMEOUT_S:g} -> {RAISED_S:g}), timeout_s of 'llc/llama-3.2-3b' ({TIMEOUT_S:g} -> "
        f"{RAISED_S:g}): request settings, which decide how requests are sent, never what a stored outcome holds; "
        "the run goes on with the new values"
    ], err
    with closing(RunStore.open(run)) as store:
        point = store.checkpoint()
    assert point is not None and point[2].get("final")  # the search finished
