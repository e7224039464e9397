"""A search says what its evaluations trimmed and what its endpoints timed out on: `optimize --json`
(`trimmed_item_runs`, `timed_out_attempts`, `timed_out_usd`) and report.md's setup line for trimming (before, only a
stderr warning said either, and nothing lasting did)."""
from __future__ import annotations

import asyncio
import json
import warnings

from rolegraph.models.hub import ModelHub
from rolegraph.optimize.api import make_optimizer, optimize_async
from rolegraph.optimize.run_reader import load_run
from rolegraph.optimize.space import SearchSpace
from rolegraph.reports.markdown import report_markdown
from rolegraph.tasks.registry import get_task
from tests.graphs.test_trim_trace import S8, SMALL, _hub, _toolbox
from tests.optimize.helpers import tiny_config

QUESTIONS = ["Who discovered penicillin?", "Which physician found penicillin in London?",
             "Penicillin mould: who described it first?", "Who found the penicillin culture?"]


def _search(tmp_path, window):
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps({"id": f"q{i}", "question": q, "answer": "Alexander Fleming"}) + "\n"
                            for i, q in enumerate(QUESTIONS * 4)))
    hub: ModelHub = _hub(tmp_path, window)
    space = SearchSpace(pool=hub.pool, models=(S8,), roles=("searcher", "solver"), max_nodes=3, budget=60.0,
                        family="qa")
    config = tiny_config(iterations=1, batch=4, validation_items=2, test_items=2, route_items=0)

    async def main():
        try:
            task = get_task("jsonl", data=data, family="qa")
            return await optimize_async(task, space, make_optimizer("random"), hub=hub, config=config,
                                        out=tmp_path / "run", toolbox=_toolbox(),
                                        task_args={"name": "jsonl", "data": str(data), "family": "qa"})
        finally:
            await hub.aclose()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return asyncio.run(main())


def test_a_search_that_trimmed_evidence_says_so_in_its_json_and_report(tmp_path):
    result = _search(tmp_path, SMALL)
    summary = result.summary()
    trimmed = sum(r.trimmed_items for r in result.trace.records)
    assert trimmed > 0 and summary["trimmed_item_runs"] == trimmed
    assert summary["timed_out_attempts"] == 0 and summary["timed_out_usd"] == 0.0  # the sim never times out
    report = report_markdown(load_run(tmp_path / "run"), None, [])
    line = next(ln for ln in report.splitlines() if ln.startswith("- evidence trimmed"))
    assert f"on {trimmed} of " in line


def test_a_search_that_trimmed_nothing_says_nothing(tmp_path):
    result = _search(tmp_path, None)  # the sim's own windows: everything fits
    assert result.summary()["trimmed_item_runs"] == 0
    assert "evidence trimmed" not in report_markdown(load_run(tmp_path / "run"), None, [])
