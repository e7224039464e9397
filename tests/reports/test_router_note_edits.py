"""A hand-edited router.yaml in a run directory whose fit figures are not numbers (`accuracy: "abc"`) makes the
report say so in its router paragraph; `rolegraph report RUN_DIR` was a ValueError / TypeError traceback from
formatting the figure."""
from __future__ import annotations

import pytest
import yaml

from rolegraph.reports.router import router_note

FIT = {"test": {"accuracy": 0.7, "n": 40, "flops_units": 3.0, "shares": [0.6, 0.4]},
       "best_graph": {"test": {"accuracy": 0.72, "flops_units": 6.0}}}


@pytest.mark.parametrize("block, key, value, said", [
    ("test", "accuracy", "abc", "fit.test.accuracy is not a number: 'abc'"),
    ("test", "flops_units", "q", "fit.test.flops_units is not a number: 'q'"),
    ("test", "shares", ["a", 0.4], "fit.test.shares is not a number: 'a'"),
    ("test", "accuracy", float("nan"), "fit.test.accuracy is not a number: nan"),
    ("best", "accuracy", True, "fit.best_graph.test.accuracy is not a number: True"),
])
def test_a_figure_that_is_not_a_number_is_the_files_problem(tmp_path, block, key, value, said):
    fit = yaml.safe_load(yaml.safe_dump(FIT))
    (fit["test"] if block == "test" else fit["best_graph"]["test"])[key] = value
    (tmp_path / "router.yaml").write_text(yaml.safe_dump({"kind": "router", "stages": [{}, {}], "fit": fit}))
    text = router_note(tmp_path).text("rolegraph run router.yaml")
    assert text == f"router.yaml is in the run directory but could not be read ({said})."


def test_whole_numbers_are_figures(tmp_path):
    fit = yaml.safe_load(yaml.safe_dump(FIT))
    fit["test"]["flops_units"], fit["best_graph"]["test"]["flops_units"] = 3, 6
    (tmp_path / "router.yaml").write_text(yaml.safe_dump({"kind": "router", "stages": [{}, {}], "fit": fit}))
    assert "at 0.50x the best graph's FLOPs (3.0 vs 6.0 units)" in router_note(tmp_path).text("rolegraph run r.yaml")
