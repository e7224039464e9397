"""A search refused by its start-up checks (a negative seed, a split with no items, no iterations nor evaluation
budget) is refused in one line before its run directory is made: none is left to block `--out` or to `--resume`
into the same error."""
from __future__ import annotations

import json
import sqlite3

import pytest

from rolegraph.errors import SearchError
from rolegraph.tasks.registry import get_task

from .helpers import resume, run, tiny_config


@pytest.mark.parametrize(
    ("size", "config", "message"),
    [
        (80, {"seed": -1}, "seed must be >= 0 (the search's draws are seeded by it), got -1"),
        (1, {}, "task 'gsm' has no train items"),  # 1 item: all of it is the test split
        (2, {}, "task 'gsm' has no validation items"),  # 1 train, 0 validation, 1 test
        (80, {"iterations": None}, "give a number of iterations or an evaluation budget (max evaluations)"),
    ],
)
def test_a_refused_start_leaves_no_run_directory(pool, tmp_path, size, config, message):
    out = tmp_path / "run"
    with pytest.raises(SearchError) as caught:
        run(pool, tmp_path / "home", get_task("gsm", size=size), config=tiny_config(**config), out=out,
            task_args={"name": "gsm", "size": size})
    assert str(caught.value) == message
    assert not out.exists()


def test_the_corrected_retry_starts_in_the_same_out(pool, small_task, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(SearchError, match="has no train items"):
        run(pool, tmp_path / "home", get_task("gsm", size=1), config=tiny_config(), out=out,
            task_args={"name": "gsm", "size": 1})
    result = run(pool, tmp_path / "home", small_task, config=tiny_config(iterations=1), out=out)
    assert result.run_dir == str(out) and (out / "run.sqlite").is_file()


def test_resuming_a_run_stored_with_a_negative_seed_is_one_line(pool, small_task, tmp_path):
    """A run started before negative seeds were refused: its resume says why, not numpy's ValueError."""
    out = tmp_path / "run"
    run(pool, tmp_path / "home", small_task, config=tiny_config(iterations=1), out=out)
    with sqlite3.connect(out / "run.sqlite") as db:
        (text,) = db.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
        config = json.loads(text)
        config["search"]["seed"] = -1
        db.execute("UPDATE meta SET value = ? WHERE key = 'config'", (json.dumps(config),))
    db.close()
    with pytest.raises(SearchError, match=r"^seed must be >= 0 \(the search's draws are seeded by it\), got -1$"):
        resume(pool, tmp_path / "home", out, small_task)
