"""A run whose pairing stopped part way (SIGTERM in the search's last phase: every graph with fit outcomes, few
with test ones): `fit_route` refuses it naming what is missing, and `rolegraph route fit` scores the missing
outcomes, so no front graph or single model is dropped from the fit unsaid."""
from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from rolegraph.errors import SearchError
from rolegraph.evaluate.store import ResultsStore
from rolegraph.optimize.paired import FIT, PAIRED_SET, TEST, results_path
from rolegraph.optimize.route_fit import fit_route
from tests.cli.support import cli
from tests.conftest import copy_search

KEEP_TEST_ROWS = 1


@pytest.fixture(scope="module")
def finished(tiny_search, tmp_path_factory):
    """One tiny finished search with complete paired outcomes (never written to: tests copy it)."""
    return copy_search(tiny_search, tmp_path_factory.mktemp("incomplete"))


def _names(run_dir, split):
    with ResultsStore(results_path(run_dir)) as store:
        return {store.load(r.run_id).graph_name: r.source for r in store.paired(PAIRED_SET, split)}


@pytest.fixture
def cut(finished, tmp_path, monkeypatch):
    """A copy of the run with all but the first test row of its paired set deleted, and what it held before."""
    monkeypatch.setenv("ROLEGRAPH_HOME", str(finished / "home"))
    run_dir = tmp_path / "run"
    shutil.copytree(finished / "run", run_dir)
    full = _names(run_dir, FIT)
    assert len(full) > KEEP_TEST_ROWS + 1 and "single" in full.values()  # the cut below drops something
    db = sqlite3.connect(results_path(run_dir))
    with db:
        db.execute(
            "DELETE FROM paired WHERE split = ? AND rowid NOT IN "
            "(SELECT rowid FROM paired WHERE split = ? ORDER BY created, rowid LIMIT ?)",
            (TEST, TEST, KEEP_TEST_ROWS),
        )
    db.close()
    assert len(_names(run_dir, TEST)) == KEEP_TEST_ROWS
    return run_dir, full


def test_fit_route_refuses_an_incomplete_pairing_naming_the_graphs(cut):
    run_dir, full = cut
    dropped = set(full) - set(_names(run_dir, TEST))
    with pytest.raises(SearchError) as exc:
        fit_route(run_dir)
    msg = str(exc.value)
    assert "incomplete" in msg and "pair_run" in msg and "\n" not in msg
    assert any(name in msg for name in dropped)


def test_route_fit_scores_the_missing_outcomes_and_fits_on_every_candidate(cut, capsys):
    run_dir, full = cut
    code, out, err = cli(["route", "fit", run_dir, "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert {c["name"] for c in data["candidates"]} >= set(full)
    assert all(c["test"] is not None for c in data["candidates"])
    assert data["single_name"] in {n for n, s in full.items() if s == "single"}
    assert _names(run_dir, TEST) == _names(run_dir, FIT)


def test_route_fit_says_it_completes_the_pairing(cut, capsys):
    run_dir, _ = cut
    code, _, err = cli(["route", "fit", run_dir, "--out", run_dir.parent / "r.yaml"], capsys)
    assert code == 0, err
    assert "pairing is incomplete" in err
