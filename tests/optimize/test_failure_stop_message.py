"""A search stopped by failed item runs quotes the first failure whole (the fix it names included), and marks a
cut of an outsized one with "…" rather than ending mid-word."""
from __future__ import annotations

import pytest

from rolegraph.errors import SearchError
from rolegraph.evaluate.result import EvalResult, ItemScore
from rolegraph.optimize.context import _stop_on_failures

# the shape of serve-sim's 400 for a pool mistake: the fix sits at the end, past the old 200-character cut
POOL_MISTAKE = (
    "model 'http/a1b' failed: HTTP 400 from http://127.0.0.1:8001/v1/chat/completions: serve-sim got no answer key "
    "for this request, so it cannot simulate an answer: the pool entry 'http/a1b' points at serve-sim but is not "
    "its twin; mark the pool entry that points at serve-sim as a sim twin (sim_twin: true) or point it elsewhere"
)


def _failed(error: str) -> EvalResult:
    items = [ItemScore(item_id="a", error=error), ItemScore(item_id="b", score=1.0)]
    return EvalResult(task="t", graph_name="g", n=2, failures=1, items=items)


def test_the_first_failure_is_quoted_whole_with_its_fix():
    with pytest.raises(SearchError) as err:
        _stop_on_failures([_failed(POOL_MISTAKE)])
    said = str(err.value)
    assert "(sim_twin: true) or point it elsewhere);" in said
    assert "…" not in said


def test_an_outsized_failure_is_cut_with_an_ellipsis():
    huge = "word " * 2000
    with pytest.raises(SearchError) as err:
        _stop_on_failures([_failed(huge)])
    said = str(err.value)
    quoted = said.split("(first: ", 1)[1].split("); the search stopped", 1)[0]
    assert quoted.endswith("…")
    assert 200 < len(quoted) < len(huge.strip())
    assert said.endswith("continue with --resume")
