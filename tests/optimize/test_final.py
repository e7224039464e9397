"""The end of a search: the figures it reports are what they say they are.

Raw training and validation accuracies equal the trace's own scores of the chosen graph; the test
items took no part in the choice (so the test figure is held out); ranking scores are kept apart."""
from __future__ import annotations

import pytest

from rolegraph.evaluate.stats import wilson_interval
from rolegraph.optimize.trace import CHARGED_PHASES

from .helpers import run, tiny_config


@pytest.fixture(scope="module")
def searched(pool, small_task, tmp_path_factory):
    home = tmp_path_factory.mktemp("final")
    return run(pool, home / "home", small_task, "agent-reinforce", config=tiny_config(iterations=3),
               out=home / "run")


def _raw(records, phases) -> tuple[float, int]:
    n = sum(r.n for r in records if r.phase in phases)
    return sum(r.accuracy * r.n for r in records if r.phase in phases) / n, n


def test_selection_figures_are_the_raw_scores_of_the_chosen_graph(searched):
    mine = [r for r in searched.trace.records if r.graph_hash == searched.best_hash]
    train, n_train = _raw(mine, {"pilot", "search"})
    selection = searched.summary()["selection"]
    assert selection["training"]["n"] == n_train
    assert selection["training"]["accuracy"] == pytest.approx(train)
    assert selection["training"]["ci95"] == pytest.approx(list(wilson_interval(train * n_train, n_train)))
    if any(r.phase == "validation" for r in mine):
        val, n_val = _raw(mine, {"validation"})
        assert selection["validation"]["accuracy"] == pytest.approx(val) and selection["validation"]["n"] == n_val
    assert "selection figures" in selection["note"] and "held out" in selection["note"]
    # p_best is over the top candidates, some of which the re-check may have given no validation item: the note
    # must not call them all re-checked (the CLI's line counts the re-checked ones apart)
    assert "p_best_of top candidates" in selection["note"] and "p_best_of re-checked" not in selection["note"]
    # ranking scores are named as such, never as accuracies
    assert set(selection) == {"note", "training", "validation", "pooled_objective_adjusted_shrunk", "p_best",
                              "p_best_of"}
    assert "objective_adjusted_shrunk" in selection["training"]


def test_the_test_figure_is_held_out_from_every_item_the_choice_saw(searched):
    records = searched.trace.records
    seen = {i for r in records if r.phase in CHARGED_PHASES for i in r.items}
    tested = [r for r in records if r.phase == "test"]
    assert len(tested) == 1 and tested[0].graph_hash == searched.best_hash
    assert seen and not seen & set(tested[0].items)
    summary = searched.summary()["test"]
    assert summary["held_out"] is True
    assert summary["accuracy"] == pytest.approx(tested[0].accuracy) and summary["n"] == tested[0].n


def test_every_candidate_says_how_likely_it_is_the_best_of_the_candidates(searched):
    rows = searched.candidates
    assert len(rows) >= 2 and all(r["p_best_of"] == len(rows) for r in rows)
    assert all(0.0 <= r["p_best"] <= 1.0 for r in rows)
    assert sum(r["p_best"] for r in rows) == pytest.approx(1.0)  # shares of the same draws
    chosen = next(r for r in rows if r["hash"] == searched.best_hash)
    assert searched.summary()["selection"]["p_best"] == chosen["p_best"]
