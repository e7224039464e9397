"""report.html names each feedback record as report.md does: the pilot's feedback (stored as iteration 0) is the
pilot's, whose evaluations are the first iterations of the curve; the page called it "Initialisation"."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from rolegraph.optimize.run_reader import load_run
from rolegraph.reports import render, write_html
from tests.optimize.helpers import run, tiny_config


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, pool, small_task) -> Path:
    base = tmp_path_factory.mktemp("feedback-label")
    out = base / "run"
    run(pool, base / "home", small_task, "agent-reinforce", config=tiny_config(iterations=5), out=out)
    render(out)
    return out


def test_the_page_and_report_md_name_the_pilots_feedback_alike(finished_run):
    data = load_run(finished_run)
    pilot = sorted({r.iteration for r in data["records"] if r.source == "pilot"})
    steps = sorted(f.iteration for f in data["feedback"] if f.iteration)
    assert len(pilot) > 1 and any(f.iteration == 0 for f in data["feedback"]) and steps  # the premise
    label = f"pilot (its evaluations are iterations {pilot[0]}-{pilot[-1]} of the curve)"
    page = write_html(finished_run).read_text(encoding="utf-8")
    titles = re.findall(r'<div class="gradient" id="gradient-\d+"><h3>([^<]*)</h3>', page)
    assert titles == ["P" + label[1:], *(f"Iteration {k}" for k in steps)]
    assert "Initialisation" not in page
    report = (finished_run / "report.md").read_text()
    assert f"**{label}**" in report and "## Chosen graph" in report  # a finished run's choice is the chosen graph
