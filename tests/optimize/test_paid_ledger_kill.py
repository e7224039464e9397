"""A search killed outright (no `finally` runs, as under SIGKILL) and resumed counts every paid call once.

The kill is `os._exit` in a child process at a chosen point: after a number of graphs were filed in the paired
sets (the resumed session skips them) or mid-iteration (the resumed session replays the iteration's calls
from the response cache, free). The expected dollars do not come from the meter: they are the prices x tokens
of every reply in the response cache (each was paid for exactly once: the kill points are between calls),
and the figure of the same search run without a kill.
"""
from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rolegraph.chat.types import Completion
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.checkpoint import paid_before
from rolegraph.optimize.rundir import RunStore
from tests.run_dir_support import checkpointed_iteration

from .helpers import resume, run

REPO = Path(__file__).resolve().parents[2]
KILLED = 9

CHILD = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {repo!r})
    from rolegraph.evaluate.store import ResultsStore
    from rolegraph.models.pool import ModelPool
    from rolegraph.optimize.context import SearchContext
    from rolegraph.tasks.registry import get_task
    from tests.optimize.helpers import run

    where, count = {where!r}, {count!r}
    seen = []
    if where == "pair":
        original = ResultsStore.pair

        def pair(self, *args, **kwargs):
            out = original(self, *args, **kwargs)
            seen.append(1)
            if len(seen) == count:
                os._exit({killed})  # the graph is stored; nothing after it runs
            return out

        ResultsStore.pair = pair
    else:
        original = SearchContext._record

        def record(self, h, spec, res, iteration, phase, source):
            out = original(self, h, spec, res, iteration, phase, source)
            if iteration == count and phase == "search":  # the iteration's calls are done; no checkpoint yet
                os._exit({killed})
            return out

        SearchContext._record = record
    run(ModelPool.builtin(), {home!r}, get_task("gsm", size=80), out={out!r})
    os._exit(0)
    """
)


def _kill_at(tmp_path: Path, where: str, count: int) -> tuple[Path, Path]:
    home, out = tmp_path / "killed-home", tmp_path / "killed-run"
    code = CHILD.format(repo=str(REPO), where=where, count=count, killed=KILLED, home=str(home), out=str(out))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == KILLED, done.stderr[-2000:]  # killed where asked, not finished or failed
    return home, out


def _cache_dollars(home: Path, pool: ModelPool) -> float:
    """Prices x tokens of every reply in the response cache: what the calls that made them cost."""
    db = sqlite3.connect(home / "cache.sqlite")
    try:
        rows = db.execute("SELECT model_id, completion FROM responses").fetchall()
    finally:
        db.close()
    costs = []
    for model_id, text in rows:
        reply = Completion.model_validate_json(text)
        costs.append(reply.cost_usd or pool.get(model_id).cost(reply.usage.input_tokens, reply.usage.output_tokens))
    return math.fsum(costs)


def _stored_paid(run_dir: Path) -> float:
    store = RunStore.open(run_dir)
    try:
        return paid_before(store)  # what a resume's meter (and its --max-dollars check) starts from
    finally:
        store.close()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, pool, small_task):
    base = tmp_path_factory.mktemp("uninterrupted")
    return run(pool, base / "home", small_task, out=base / "run").paid_usd


@pytest.mark.parametrize(("where", "count"), [("pair", 3), ("search", 2)])
def test_a_killed_search_resumes_with_every_paid_call_counted_once(
    tmp_path, pool, small_task, uninterrupted, where, count
):
    home, out = _kill_at(tmp_path, where, count)
    paid_so_far = _cache_dollars(home, pool)
    assert paid_so_far > 0
    store = RunStore.open(out)
    try:  # the kill landed where asked: in the pairing the search was done and checkpointed, else mid-search
        assert store.checkpoint()[1] == ("done" if where == "pair" else "search")
    finally:
        store.close()
    assert _stored_paid(out) == pytest.approx(paid_so_far, rel=1e-9)
    resumed = resume(pool, home, out, small_task)
    assert resumed.paid_usd == pytest.approx(_cache_dollars(home, pool), rel=1e-9)
    assert resumed.paid_usd == pytest.approx(uninterrupted, rel=1e-9)
    assert _stored_paid(out) == pytest.approx(uninterrupted, rel=1e-9)


def test_a_real_sigkill_leaves_every_cached_reply_counted(tmp_path, pool):
    """SIGKILL at an arbitrary moment of a search: the dollars the run store holds are at least what the replies
    in the cache cost (a resume replays those free), and more only by replies paid but lost with the process."""
    home, run_dir = tmp_path / "home", tmp_path / "run"
    search = ["optimize", "--task", "gsm", "--task-size", "40", "--optimizer", "random", "--iterations", "400",
              "--samples", "2", "--batch", "4", "--validation-items", "4", "--test-items", "4", "--out", run_dir]
    child = subprocess.Popen([sys.executable, "-m", "rolegraph", *map(str, search)],
                             env=os.environ | {"ROLEGRAPH_HOME": str(home)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while (checkpointed_iteration(run_dir) or 0) < 2:  # well inside the search, then a moment into a step
            assert child.poll() is None and time.monotonic() < deadline, child.communicate()[1][-2000:]
            time.sleep(0.05)
        time.sleep(0.15)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    paid, stored = _cache_dollars(home, pool), _stored_paid(run_dir)
    assert stored >= paid * (1 - 1e-9) and stored <= paid * 1.05
