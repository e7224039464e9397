"""`RunStore.create` in a directory whose store was deleted but whose SQLite side files were left (a killed run's
`run.sqlite-wal`): the new store must not adopt them, or SQLite replays the old run's rows into it."""

from __future__ import annotations

import shutil

from rolegraph.optimize.rundir import STORE_NAME, RunStore


def test_a_stale_wal_of_a_deleted_store_is_not_replayed(tmp_path):
    run_dir = tmp_path / "r"
    old = RunStore.create(run_dir, {"old": "run A"})
    old.set_paid_usd(123.0)  # committed to the WAL, not yet checkpointed into run.sqlite
    wal = run_dir / f"{STORE_NAME}-wal"
    assert wal.is_file() and wal.stat().st_size > 0
    shutil.copy(wal, tmp_path / "saved-wal")  # what a SIGKILLed process leaves behind
    old.close()
    (run_dir / STORE_NAME).unlink()  # the user deletes the old store, not its WAL
    shutil.copy(tmp_path / "saved-wal", wal)
    (run_dir / f"{STORE_NAME}-shm").write_bytes(b"stale")
    (run_dir / f"{STORE_NAME}-journal").write_bytes(b"stale")

    new = RunStore.create(run_dir, {"new": "run B"})
    try:
        assert new.config(check_inputs=False) == {"new": "run B"}
        assert new.paid_usd() == 0.0
    finally:
        new.close()
    assert not (run_dir / f"{STORE_NAME}-journal").exists()
    reopened = RunStore.open(run_dir)
    try:
        assert reopened.config(check_inputs=False) == {"new": "run B"}
        assert reopened.paid_usd() == 0.0
    finally:
        reopened.close()
