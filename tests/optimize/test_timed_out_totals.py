"""A search's requests abandoned at their `timeout_s` are the run's totals over all its sessions, as `paid_usd` is:
`optimize --json` gave them for the resumed session alone (an earlier session's abandoned requests, which the
endpoint may bill, silently dropped out of the count), and report.md never named them. Stored with every
checkpoint and with the dollars, so an interrupted session loses none; a run directory from before they were kept
opens and resumes with none counted for its earlier sessions.

A real loopback server answers each distinct request past the models' `timeout_s` the first time (the attempt is
abandoned and sent again) and at once after that; its own record of the slow requests, and of each one's
`max_tokens` and `n`, is what the totals are checked against, by hand: at a prompt price of 0, an abandoned
request's worst case is n x max_tokens x price_out."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import warnings
from typing import Any

import pytest

from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.api import make_optimizer, optimize_async, resume_async
from rolegraph.optimize.checkpoint import timed_out_before
from rolegraph.optimize.rundir import STORE_NAME, RunStore
from rolegraph.optimize.space import SearchSpace
from rolegraph.reports.markdown import render
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread
from tests.models.fake_servers import SlowFirstTime

from .helpers import TINY_MODELS, TINY_ROLES, Interrupted, stopped_after, tiny_config

TIMEOUT_S = 0.3
SLOW_S = 1.0  # the first answer to a request: well past TIMEOUT_S
PRICE_OUT = 100.0  # dollars per million output tokens; prompts are free, so a worst case is its output alone
STOP_AFTER = 1  # the first session stops right after this iteration's checkpoint


def worst_dollars(bodies: list[dict]) -> float:
    """By hand: each abandoned request's `max_tokens` of output for each of its choices, at PRICE_OUT."""
    return sum(b["max_tokens"] * b.get("n", 1) for b in bodies) * PRICE_OUT / 1e6


@pytest.fixture
def server():
    slow = SlowFirstTime(SLOW_S)
    with ServerThread(slow.app) as thread:
        yield slow, thread.base_url


def _space(pool: ModelPool, base_url: str) -> SearchSpace:
    twins = [pool.get(m).model_copy(update={"id": "llc/" + m.split("/", 1)[1], "backend": "openai",
                                            "base_url": base_url, "model": m, "answer_key": False,
                                            "price_in": 0.0, "price_out": PRICE_OUT, "timeout_s": TIMEOUT_S,
                                            "max_retries": 2, "max_concurrency": 8})
             for m in TINY_MODELS]
    return SearchSpace(pool=ModelPool(list(pool) + twins), models=tuple(t.id for t in twins), roles=TINY_ROLES,
                       max_nodes=3, budget=18.0)


def _run(space: SearchSpace, home, call) -> Any:
    async def main():
        hub = ModelHub(space.pool, Settings(home=home, cache=True))
        try:
            return await call(hub)
        finally:
            await hub.aclose()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TimedOutWarning lines: said once per model, checked in tests/models
        return asyncio.run(main())


def _interrupted_search(space, home, task, out, *, killed: bool = False) -> None:
    """A search stopped right after its checkpoint of iteration STOP_AFTER; `killed`: the process never stored the
    timed-out figures but in its checkpoints (its `finally` and the ledger's writes never ran)."""
    with stopped_after(STOP_AFTER) as m:
        if killed:
            m.setattr(RunStore, "set_timed_out", lambda self, attempts, usd: None)
        with pytest.raises(Interrupted):
            _run(space, home, lambda hub: optimize_async(
                task, space, make_optimizer("random"), hub=hub, config=tiny_config(route_items=0), out=out,
                task_args={"name": "gsm", "size": 80}))


def _resume(space, home, task, run_dir):
    return _run(space, home, lambda hub: resume_async(run_dir, hub.settings, hub=hub, task=task))


def _stored(run_dir) -> tuple[int, float]:
    store = RunStore.open(run_dir)
    try:
        return timed_out_before(store)
    finally:
        store.close()


@pytest.mark.parametrize("killed", [False, True], ids=["interrupted", "killed-after-checkpoint"])
def test_timed_out_requests_add_up_over_an_interrupted_session_and_its_resume(
        pool, small_task, tmp_path, server, killed):
    slow, base_url = server
    space = _space(pool, base_url)
    run_dir = tmp_path / "run"
    _interrupted_search(space, tmp_path / "home", small_task, run_dir, killed=killed)
    first = list(slow.slow)
    assert first, "the first session abandoned no request: the test shows nothing"
    attempts, usd = _stored(run_dir)
    assert attempts == len(first)
    assert usd == pytest.approx(worst_dollars(first), rel=1e-9)

    result = _resume(space, tmp_path / "home", small_task, run_dir)
    second = slow.slow[len(first):]
    assert second, "the resumed session abandoned no request: the totals would add nothing"
    summary = result.summary()
    assert summary["timed_out_attempts"] == len(first) + len(second)  # both sessions', not the resume's alone
    assert summary["timed_out_usd"] == pytest.approx(worst_dollars(first) + worst_dollars(second), rel=1e-9)
    assert _stored(run_dir) == (summary["timed_out_attempts"], pytest.approx(summary["timed_out_usd"], rel=1e-9))

    report = render(run_dir).read_text()
    line = next(ln for ln in report.splitlines() if "timed out and were abandoned" in ln)
    assert line.startswith(f"- over all sessions, {len(first) + len(second)} request(s) timed out")
    assert report.index(line) < report.index("- status:")  # in the Setup section


def test_a_run_directory_from_before_the_totals_were_kept_resumes_counting_none_before(
        pool, small_task, tmp_path, server):
    slow, base_url = server
    space = _space(pool, base_url)
    run_dir = tmp_path / "run"
    _interrupted_search(space, tmp_path / "home", small_task, run_dir)
    first = len(slow.slow)
    with sqlite3.connect(run_dir / STORE_NAME) as db:  # as an older rolegraph wrote it: neither key anywhere
        db.execute("DELETE FROM meta WHERE key = 'timed_out'")
        (state,) = db.execute("SELECT state FROM checkpoint WHERE id = 1").fetchone()
        old = {k: v for k, v in json.loads(state).items() if not k.startswith("timed_out")}
        db.execute("UPDATE checkpoint SET state = ? WHERE id = 1", (json.dumps(old),))
    db.close()
    assert _stored(run_dir) == (0, 0.0)

    result = _resume(space, tmp_path / "home", small_task, run_dir)
    second = slow.slow[first:]
    assert second
    assert result.summary()["timed_out_attempts"] == len(second)  # the earlier session's are unknown: none counted
    assert result.summary()["timed_out_usd"] == pytest.approx(worst_dollars(second), rel=1e-9)
