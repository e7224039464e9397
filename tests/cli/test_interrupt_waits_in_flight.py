"""SIGTERM (as Ctrl-C) during a search on a real endpoint waits for the paid calls in flight, a bounded time, and
says so in one line: the endpoint bills them whether or not the search reads the replies, so they are counted in
the run's `paid_usd` and cached for the resume. Before, the interrupt cancelled them: billed upstream, never
counted, never cached, and sent again by `--resume`. A real process, a real signal, a slow loopback server whose
own books say what was served."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from rolegraph.optimize.rundir import RunStore
from rolegraph.sim.server import ServerThread
from tests.models.slow_server import PRICE_IN, PRICE_OUT, SlowBilling

TERMINATED = 143
WAITING = re.compile(r"^waiting for (\d+) paid calls? in flight \(interrupt again to leave them\)$", re.M)


def _pool(path, base_url: str) -> None:
    path.write_text(
        "models:\n"
        f"  - {{id: llc/slow, backend: openai, base_url: \"{base_url}\", model: slow, params_b: 0.135, layers: 30,\n"
        f"     hidden: 576, price_in: {PRICE_IN}, price_out: {PRICE_OUT}, context_window: 2048, max_concurrency: 2}}\n")


def _interrupted(tmp_path, delay_s: float, signals: list[int], settle: bool = True, argv: list[str] | None = None
                 ) -> tuple[SlowBilling, int, int, str]:
    """Run a search on a slow server, send `signals` (0.5 s apart) once its first calls are at the server; the
    server, how many requests it had when signalled, the exit code and stderr."""
    server = SlowBilling(delay_s=delay_s)
    with ServerThread(server.app) as thread:
        _pool(tmp_path / "pool.yaml", thread.base_url)
        argv = argv or ["optimize", "--task", "arith", "--pool", str(tmp_path / "pool.yaml"), "--budget", "0.5",
                        "--max-nodes", "3", "--samples", "2", "--batch", "2", "--iterations", "2",
                        "--validation-items", "2", "--test-items", "4", "--route-items", "0", "--out",
                        str(tmp_path / "run")]
        env = os.environ | {"ROLEGRAPH_HOME": str(tmp_path / "home")}
        child = subprocess.Popen([sys.executable, "-m", "rolegraph", *argv], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        try:
            assert server.arrived.wait(60), child.communicate(timeout=5)[1][-2000:]
            time.sleep(0.3)  # the calls are at the server, mid-reply
            sent = len(server.bodies)
            for k, signum in enumerate(signals):
                if k:
                    time.sleep(0.5)
                child.send_signal(signum)
            _, err = child.communicate(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        if settle:
            server.settled()
    return server, sent, child.returncode, err


def test_sigterm_waits_for_the_paid_calls_in_flight_and_counts_them(tmp_path):
    server, sent, code, err = _interrupted(tmp_path, 2.0, [signal.SIGTERM])
    run_dir = tmp_path / "run"
    assert code == TERMINATED, err[-2000:]
    assert "Traceback" not in err
    waits = WAITING.findall(err)
    assert len(waits) == 1 and int(waits[0]) >= sent > 0, err  # said once, before the wait
    store = RunStore.open(run_dir)
    try:
        stored = store.paid_usd()
    finally:
        store.close()
    assert stored == pytest.approx(server.billed(), rel=1e-12) and stored > 0  # every billed call is counted


def test_a_second_ctrl_c_leaves_the_calls_in_flight_and_says_so(tmp_path):
    """Ctrl-C waits; Ctrl-C again leaves the calls (said, with what it means) and the command still ends with
    its one "interrupted:" line, exit 130: asyncio's own second Ctrl-C raised out of the loop and its shutdown
    printed the command's saved-state exception with a traceback."""
    _, _, code, err = _interrupted(tmp_path, 20.0, [signal.SIGINT, signal.SIGINT], settle=False)
    assert code == 130, err[-2000:]
    assert "Traceback" not in err and "unhandled" not in err, err[-3000:]
    assert len(WAITING.findall(err)) == 1, err
    assert re.search(r"^left \d+ paid calls? in flight: their replies are not kept, so running it again sends them again$", err, re.M), err
    assert err.splitlines()[-1].startswith("interrupted: "), err


def test_sigterm_during_eval_waits_for_its_calls_and_a_rerun_sends_none_of_them_again(tmp_path):
    """`eval` had no SIGTERM handling: it died at once, silent, and its calls in flight were lost and paid again."""
    graph = tmp_path / "g.yaml"
    graph.write_text("name: g\nnodes:\n  - {id: a, role: solver, model: llc/slow}\nedges: []\n")
    argv = [sys.executable, "-m", "rolegraph", "eval", str(graph), "--task", "arith", "--pool",
            str(tmp_path / "pool.yaml"), "--n", "4"]
    env = os.environ | {"ROLEGRAPH_HOME": str(tmp_path / "home")}
    server = SlowBilling(delay_s=2.0)
    with ServerThread(server.app) as thread:  # one server for both runs: its address is part of a reply's cache key
        _pool(tmp_path / "pool.yaml", thread.base_url)
        child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert server.arrived.wait(60), child.communicate(timeout=5)[1][-2000:]
            time.sleep(0.3)
            sent = len(server.bodies)
            child.send_signal(signal.SIGTERM)
            _, err = child.communicate(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        server.settled()
        first = {json.dumps(b, sort_keys=True) for b in server.served}
        server.delay_s = 0.0
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert child.returncode == TERMINATED and "Traceback" not in err, err
    assert len(WAITING.findall(err)) == 1 and "terminated (SIGTERM)" in err, err
    assert len(first) == sent >= 1  # what was at the server when the signal came, finished
    assert done.returncode == 0, done.stderr[-2000:]
    rerun = [json.dumps(b, sort_keys=True) for b in server.bodies[sent:]]
    assert rerun and not set(rerun) & first  # the replies the first run waited for came from the cache
