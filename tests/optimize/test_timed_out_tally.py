"""The run's requests abandoned at a timeout, over all its sessions, figures worked by hand: `TimedOutTally` (earlier
sessions' total plus what the hub counted since this session began, not since the hub began),
`timed_out_before` (the larger of the store's running figure and the last checkpoint's, each on its own), the
`PaidLedger` storing the total with each paid call and as it closes, and `RunStore.timed_out`'s checks."""

from __future__ import annotations

import json
import sqlite3

import pytest

from rolegraph.errors import SearchError
from rolegraph.models.in_flight import CallStats
from rolegraph.optimize.checkpoint import PaidLedger, timed_out_before
from rolegraph.optimize.rundir import STORE_NAME, RunStore
from rolegraph.optimize.spending import TimedOutTally


def _stats(attempts: int, usd: float) -> CallStats:
    return CallStats(timed_out={"m": attempts} if attempts else {}, timed_out_usd=usd)


def test_the_tally_adds_this_sessions_new_timeouts_to_the_earlier_sessions():
    stats = _stats(3, 1.0)  # a hub that had abandoned 3 requests ($1.00) before this search began
    tally = TimedOutTally.start(stats, (2, 0.5))
    assert tally.total == (2, 0.5)
    stats.timed_out["m"] = 5
    stats.timed_out_usd = 1.75
    attempts, usd = tally.total
    assert attempts == 2 + 2 and usd == pytest.approx(0.5 + 0.75)


def test_the_tally_never_takes_dollars_back():
    stats = _stats(1, 1.0)
    tally = TimedOutTally.start(stats, (4, 0.5))
    stats.timed_out_usd = 0.25  # rounding, or a reset: never below what earlier sessions stored
    assert tally.total == (4, 0.5)


@pytest.fixture
def store(tmp_path):
    s = RunStore.create(tmp_path / "run", {})
    yield s
    s.close()


def _checkpoint(store: RunStore, attempts: int, usd: float) -> None:
    state = {"iterations": [], "timed_out_attempts": attempts, "timed_out_usd": usd}
    store.save_checkpoint(1, "search", state, [], [], {})


def test_a_store_with_neither_figure_had_none(store):
    assert timed_out_before(store) == (0, 0.0)


def test_each_figure_is_the_larger_of_the_stored_one_and_the_checkpoints(store):
    store.set_timed_out(3, 0.25)
    assert timed_out_before(store) == (3, 0.25)
    _checkpoint(store, 5, 0.125)
    assert timed_out_before(store) == (5, 0.25)
    store.set_timed_out(6, 0.5)
    assert timed_out_before(store) == (6, 0.5)


def test_a_checkpoints_figures_count_without_a_stored_one(store):
    _checkpoint(store, 4, 0.375)
    assert timed_out_before(store) == (4, 0.375)


def test_the_ledger_stores_the_runs_total_with_a_paid_call_and_as_it_closes(store, tmp_path):
    run = tmp_path / "run"
    store.set_timed_out(2, 0.4)  # an earlier session's
    stats = _stats(1, 0.1)  # the hub's count before this session
    ledger = PaidLedger(run, stats, 0.0)
    stats.timed_out["m"] = 3
    stats.timed_out_usd = 0.3
    stats.paid_usd = 0.01
    stats.on_paid()
    attempts, usd = store.timed_out()
    assert attempts == 4 and usd == pytest.approx(0.6)
    stats.timed_out["m"] = 4  # abandoned after the session's last paid call
    stats.timed_out_usd = 0.35
    ledger.close()
    attempts, usd = store.timed_out()
    assert attempts == 5 and usd == pytest.approx(0.65)


def test_a_ledger_with_nothing_new_leaves_the_stored_figure(store, tmp_path):
    _checkpoint(store, 7, 0.7)  # only the checkpoint holds it
    stats = _stats(0, 0.0)
    ledger = PaidLedger(tmp_path / "run", stats, 0.0)
    assert ledger.timed_out.total == (7, 0.7)
    ledger.close()
    assert timed_out_before(store) == (7, 0.7)


def _meta(tmp_path, value) -> RunStore:
    RunStore.create(tmp_path / "run", {}).close()
    db = sqlite3.connect(tmp_path / "run" / STORE_NAME)
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('timed_out', ?)", (json.dumps(value),))
    db.commit()
    db.close()
    return RunStore.open(tmp_path / "run")


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"attempts": 0, "usd": 0.0}, (0, 0.0)),
        ({"attempts": 2, "usd": 0}, (2, 0.0)),
        ({"attempts": 3, "usd": 0.25}, (3, 0.25)),
    ],
)
def test_a_stored_figure_in_range_reads_back(tmp_path, value, expected):
    s = _meta(tmp_path, value)
    try:
        got = s.timed_out()
    finally:
        s.close()
    assert got == expected and isinstance(got[1], float)


@pytest.mark.parametrize(
    "value",
    [
        {"attempts": -1, "usd": 0.0},
        {"attempts": 1, "usd": -0.5},
        {"attempts": 1, "usd": "0.5"},
        {"attempts": True, "usd": 0.5},
        {"attempts": 1, "usd": True},
        {"attempts": 1.5, "usd": 0.5},
        {"attempts": 1, "usd": float("inf")},
    ],
)
def test_a_stored_figure_out_of_range_is_a_damaged_store(tmp_path, value):
    with pytest.raises(SearchError, match="requests timed out is unreadable"):
        s = _meta(tmp_path, value)
        try:
            s.timed_out()
        finally:
            s.close()


def test_set_timed_out_round_trips(store):
    store.set_timed_out(3, 0.25)
    assert store.timed_out() == (3, 0.25)
