"""report.md's setup and single-model figures, each worked out here from the run's own trace.json: the evaluations
spent (pilot, search and validation runs, never the test items or a warm start's imported ones), the single models
in order of their objective, models left out for their context window not listed as usable, and trimmed evidence
counted over this run's item runs only."""
from __future__ import annotations

import json
import re

import pytest

from rolegraph.optimize.pareto import front, points
from rolegraph.optimize.run_reader import load_run
from rolegraph.reports.markdown import report_markdown
from tests.optimize.helpers import run, tiny_config

SPENT_PHASES = ("pilot", "search", "validation")  # the documented figure: the search's own item runs


@pytest.fixture(scope="module")
def run_dir(pool, small_task, tmp_path_factory):
    base = tmp_path_factory.mktemp("md")
    run(pool, base / "home", small_task, "agent-reinforce", config=tiny_config(iterations=2), out=base / "run")
    return base / "run"


def _markdown(run_dir, **changes) -> str:
    loaded = load_run(run_dir)
    loaded |= changes
    pts = points(loaded["records"])
    return report_markdown(loaded, None, front(pts))


def test_evaluations_spent_are_the_searchs_own_item_runs(run_dir):
    trace = json.loads((run_dir / "trace.json").read_text())
    expected = sum(e["n"] for e in trace["evaluations"] if e["phase"] in SPENT_PHASES)
    assert any(e["phase"] == "validation" for e in trace["evaluations"])  # the run has the phase the rule names
    spent = re.search(r"evaluations spent: (\d+) item-level graph runs", _markdown(run_dir))
    assert spent is not None and int(spent.group(1)) == expected


def test_single_models_are_listed_best_objective_first(run_dir):
    singles = json.loads((run_dir / "trace.json").read_text())["final"]["singles"]
    assert len({s["objective"] for s in singles}) > 1  # an order to get wrong
    expected = [s["label"] for s in sorted(singles, key=lambda s: s["objective"], reverse=True)]
    shown = re.findall(r"^\| single (\S+) \|", _markdown(run_dir), flags=re.MULTILINE)
    assert shown == expected


def test_a_model_left_out_for_its_window_is_not_listed_as_usable(run_dir):
    loaded = load_run(run_dir)
    space = dict(loaded["config"]["space"])
    dropped = space["models"][0]
    space["window_excluded"] = [dropped]
    text = _markdown(run_dir, config=loaded["config"] | {"space": space})
    models = re.search(r"- space: models (.*?) \(left out, one node exceeds its context window: (.*?)\)", text)
    assert models is not None and dropped not in models.group(1).split(", ") and models.group(2) == dropped


def test_trimmed_evidence_counts_this_runs_item_runs_not_imported_ones(run_dir):
    loaded = load_run(run_dir)
    records = loaded["records"]
    own = [records[0].model_copy(update={"trimmed_items": 2})] + records[1:]
    imported = [records[0].model_copy(update={"phase": "prior", "trimmed_items": 5})]
    text = _markdown(run_dir, records=imported + own)
    runs = sum(r.n for r in own)  # the prior record's item runs are not this run's
    assert f"evidence trimmed to fit a model's context window on 2 of {runs} item runs" in text
