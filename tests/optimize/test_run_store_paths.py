"""A run directory whose path holds URI characters ('#', '?', '%') opens like any other: the store's SQLite URI
is quoted (unquoted, SQLite cut the path at '#' or '?', made stray files there and refused the run)."""
from __future__ import annotations

import pytest

from rolegraph.optimize.rundir import RunStore


@pytest.mark.parametrize("name", ["run#1", "run?q=1", "run%41", "a b#?%"])
def test_a_run_directory_with_uri_characters_reopens(tmp_path, name):
    before = set(tmp_path.iterdir())
    RunStore.create(tmp_path / name, {"task_args": {"name": "gsm"}, "search": {}}).close()
    store = RunStore.open(tmp_path / name)
    assert store.config()["task_args"] == {"name": "gsm"}
    store.close()
    assert set(tmp_path.iterdir()) - before == {tmp_path / name}  # nothing made at a truncated path
