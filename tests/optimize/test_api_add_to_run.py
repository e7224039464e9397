"""`add_to_run` from Python: graph files are taken as paths, anything else that is not a graph or a router is
refused in one line, and a graph whose output never answers is refused before anything is scored (it would be
filed as scoring 0 on every item), with the line `eval --add-to` prints."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.errors import GraphError
from rolegraph.evaluate.store import ResultsStore
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.io import save_graph
from rolegraph.optimize.paired import FIT, PAIRED_SET, TEST, results_path
from rolegraph.optimize.rebuild import add_to_run
from rolegraph.settings import Settings

from .helpers import run, tiny_config


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, pool, small_task):
    base = tmp_path_factory.mktemp("add")
    run(pool, base / "home", small_task, "random", config=tiny_config(), out=base / "run")
    return base


def _paired(run_dir) -> dict[str, int]:
    with ResultsStore(results_path(run_dir / "run")) as store:
        return {split: len(store.paired(PAIRED_SET, split)) for split in (FIT, TEST)}


def _add(run_dir, specs):
    return asyncio.run(add_to_run(run_dir / "run", specs, Settings(home=run_dir / "home")))


def test_a_graph_file_is_taken_as_a_path(run_dir):
    path = save_graph(Graph("big").node("a", "solver", "sim/llama-3.1-70b").build(), run_dir / "big.yaml")
    before = _paired(run_dir)
    got = _add(run_dir, [str(path)])
    assert {split: len(rows) for split, rows in got.items()} == {FIT: 1, TEST: 1}
    assert _paired(run_dir) == {split: n + 1 for split, n in before.items()}


@pytest.mark.parametrize("bad", [[{"nodes": []}], [42]])
def test_something_else_is_refused_naming_what_it_takes(run_dir, bad):
    with pytest.raises(GraphError, match="add_to_run takes GraphSpec or RouterSpec objects or paths"):
        _add(run_dir, bad)


def test_a_graph_whose_output_never_answers_is_refused_before_scoring(run_dir):
    before = _paired(run_dir)
    planner = Graph("plans").node("a", "planner", "sim/llama-3.1-8b").build()
    with pytest.raises(GraphError, match="'plans': output node 'a': role 'planner' never answers"):
        _add(run_dir, [planner])
    assert _paired(run_dir) == before


def test_what_scoring_an_added_graph_pays_is_the_runs_paid_total(run_dir):
    """The report's "paid on calls over all sessions" is the run store's `paid_usd`; graphs added to the run were
    paid (a real endpoint's dollars, $0.18 in a probe) and left out of it."""
    from rolegraph.optimize.rundir import RunStore

    def paid() -> float:
        store = RunStore.open(run_dir / "run")
        try:
            return store.paid_usd()
        finally:
            store.close()

    before = paid()
    path = save_graph(Graph("pair").node("a", "solver", "sim/llama-3.2-3b").node("b", "solver", "sim/llama-3.2-3b")
                      .node("f", "fuser", "sim/llama-3.2-1b").edge("a", "f").edge("b", "f").build(), run_dir / "pair.yaml")
    got = _add(run_dir, [str(path)])
    spent = sum(r.cost_usd for rows in got.values() for r in rows)  # every call new: none in the cache before
    assert spent > 0 and paid() == pytest.approx(before + spent, rel=1e-9)
