"""A run store records that the dollar cap stopped the run (`record_cap_stop`), so every resume hint can name
`--max-dollars HIGHER` (`resume_command`): a resume without a higher cap stops again at once. Stores without
the record (all from before it existed) keep the plain hint."""

from __future__ import annotations

import json
import sqlite3

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.rundir import STORE_NAME, RunStore, resume_command

CAP_MESSAGE = "dollar cap reached: $0.003 spent on paid calls >= --max-dollars $0.003"


def _run(tmp_path, *, checkpoint: bool = True) -> RunStore:
    store = RunStore.create(tmp_path / "r", {"search": {"max_dollars": 0.003}})
    if checkpoint:
        store.save_checkpoint(1, "search", {"iterations": []}, [], [], {})
    return store


def test_a_store_without_a_stop_keeps_the_plain_hint(tmp_path):
    store = _run(tmp_path)
    store.close()
    assert resume_command(tmp_path / "r") == f"rolegraph optimize --resume {tmp_path / 'r'}"


def test_a_cap_stop_is_named_in_every_resume_hint(tmp_path):
    _run(tmp_path).close()
    run_dir = tmp_path / "r"
    RunStore.record_cap_stop(run_dir, CAP_MESSAGE)
    assert resume_command(run_dir) == f"rolegraph optimize --resume {run_dir} --max-dollars HIGHER"
    reopened = RunStore.open(run_dir)
    assert reopened.cap_stop() == CAP_MESSAGE
    reopened.close()
    with pytest.raises(SearchError) as info:  # a new search in its directory is told how to resume it
        RunStore.create(run_dir, {"x": 1})
    assert f"resume it with `rolegraph optimize --resume {run_dir} --max-dollars HIGHER`" in str(info.value)


def test_a_cap_stop_before_the_first_checkpoint_holds(tmp_path):
    _run(tmp_path, checkpoint=False).close()
    RunStore.record_cap_stop(tmp_path / "r", CAP_MESSAGE)
    store = RunStore.open(tmp_path / "r")
    assert store.cap_stop() == CAP_MESSAGE
    store.close()


def test_a_checkpoint_saved_since_makes_the_stop_stale(tmp_path):
    _run(tmp_path).close()
    RunStore.record_cap_stop(tmp_path / "r", CAP_MESSAGE)
    store = RunStore.open(tmp_path / "r")
    store.save_checkpoint(2, "search", {"iterations": []}, [], [], {})  # a later session went on
    assert store.cap_stop() is None
    store.close()
    assert resume_command(tmp_path / "r").endswith("--resume " + str(tmp_path / "r"))


def test_a_new_cap_clears_the_stop(tmp_path):
    _run(tmp_path).close()
    RunStore.record_cap_stop(tmp_path / "r", CAP_MESSAGE)
    store = RunStore.open(tmp_path / "r")
    store.set_max_dollars(1.0)  # `--resume RUN --max-dollars 1`
    assert store.cap_stop() is None
    assert store.config()["search"]["max_dollars"] == 1.0
    store.close()


def test_an_unreadable_stop_record_is_damage_not_skipped(tmp_path):
    _run(tmp_path).close()
    RunStore.record_cap_stop(tmp_path / "r", CAP_MESSAGE)
    db = sqlite3.connect(tmp_path / "r" / STORE_NAME)
    db.execute("UPDATE meta SET value = ? WHERE key = 'stop'", (json.dumps(["not", "an", "object"])[:-3],))
    db.commit()
    db.close()
    with pytest.raises(SearchError, match="record of the dollar cap's stop is unreadable"):
        RunStore.open(tmp_path / "r")
