"""`fit_route` from Python: a path that is not a run says so, and a run without paired outcomes gets advice
that works from Python (score the front with `pair_run`, or finish the search with `resume_async`)."""
from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize import pair_run
from rolegraph.optimize.route_fit import fit_route
from rolegraph.settings import Settings

from .helpers import run, tiny_config


def test_a_missing_run_directory_says_so(tmp_path):
    with pytest.raises(SearchError, match="no such run directory"):
        fit_route(tmp_path / "nowhere")


def test_a_directory_that_is_not_a_run_says_so(tmp_path):
    with pytest.raises(SearchError, match="not a search run directory"):
        fit_route(tmp_path)


@pytest.fixture
def unpaired_run(tmp_path, pool, small_task):
    out = tmp_path / "run"
    run(pool, tmp_path / "home", small_task, "random", config=tiny_config(route_items=0), out=out)
    return out


def test_the_advice_for_a_run_without_outcomes_works_from_python(unpaired_run, tmp_path):
    with pytest.raises(SearchError, match=r"rolegraph\.optimize\.pair_run") as caught:
        fit_route(unpaired_run)
    assert "--resume" not in str(caught.value)  # the old advice, which gave it no outcomes
    asyncio.run(pair_run(unpaired_run, Settings(home=tmp_path / "home")))  # the advice, followed as given
    fitted = fit_route(unpaired_run)
    assert fitted.router.stages and fitted.test.n > 0


def test_an_unfinished_run_is_told_to_resume_from_python(unpaired_run, tmp_path):
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    shutil.copy(unpaired_run / "run.sqlite", unfinished / "run.sqlite")
    db = sqlite3.connect(unfinished / "run.sqlite")
    state = json.loads(db.execute("SELECT state FROM checkpoint WHERE id = 1").fetchone()[0])
    state["final"] = None
    db.execute("UPDATE checkpoint SET phase = 'search', state = ? WHERE id = 1", (json.dumps(state),))
    db.commit()
    db.close()
    with pytest.raises(SearchError, match=r"has not finished: continue it with `await rolegraph\.optimize\.resume_async"):
        fit_route(unfinished)
