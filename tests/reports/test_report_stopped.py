"""A search stopped before its end (here by its dollar cap, during Agent-REINFORCE's pilot): its reports call
the graph they draw the best so far, not the chosen graph (no choice was made), and say its feedback agent has
not spoken yet, not that the optimizer writes no textual gradients (it is Agent-REINFORCE's)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rolegraph.optimize.run_reader import load_run
from tests.cli.support import cli

STOPPED = ["optimize", "--task", "gsm", "--iterations", "3", "--task-size", "80", "--samples", "2", "--batch", "4",
           "--validation-items", "4", "--test-items", "6", "--max-dollars", "0.002"]
"""Agent-REINFORCE (the default optimizer) with a cap the sim pool's prices reach during the pilot."""


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory) -> Path:
    from tests.cli.support import cli_in_home

    base = tmp_path_factory.mktemp("stopped")
    cli_in_home(base / "home", *STOPPED, "--out", base / "run", code=2)  # the cap stopped it, resumably
    return base / "run"


@pytest.fixture
def run_copy(stopped_run, tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    return Path(shutil.copytree(stopped_run, tmp_path / "run"))


def test_a_stopped_agent_reinforce_run_is_reported_as_unfinished(run_copy, capsys):
    run = load_run(run_copy)
    # the premise: Agent-REINFORCE, stopped in the search after a graph was scored, before any feedback
    assert run["config"]["optimizer"]["name"] == "agent-reinforce" and run["phase"] == "search"
    assert run["final"] is None and not run["feedback"] and run["iteration"] >= 1 and run["records"]
    code, _, err = cli(["report", run_copy, "--html"], capsys)
    assert code == 0, err
    report = (run_copy / "report.md").read_text()
    page = (run_copy / "report.html").read_text()
    stopped = f"No feedback yet (stopped after iteration {run['iteration']})."
    assert "## Best graph so far (not yet chosen)" in report and "## Chosen graph" not in report
    assert stopped in report
    caption = re.search(r'<figure id="fig-graph">.*?<figcaption>([^<]*)</figcaption>', page)
    assert caption is not None and caption.group(1).startswith("the best graph so far (not yet chosen), output node")
    assert "the chosen graph" not in page
    gradients = page.split('<section id="gradients">', 1)[1].split("</section>", 1)[0]
    assert stopped in gradients and "writes no textual gradients" not in gradients
