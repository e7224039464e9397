"""examples/mindsearch_agent.py says when a run's calls came from the response cache: its seconds are then those
first measured (a rerun printed 0.0 s after 49.7 s, with nothing saying why)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from rolegraph.graphs.result import NodeTrace, RunResult

EXAMPLE = Path(__file__).parents[2] / "examples" / "mindsearch_agent.py"


def agent():
    spec = importlib.util.spec_from_file_location("example_mindsearch_report", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(cached: int) -> RunResult:
    nodes = [NodeTrace(id="plan", role="planner", model="m", calls=1, cached_calls=min(cached, 1)),
             NodeTrace(id="answer", role="solver", model="m", calls=1, cached_calls=max(0, cached - 1))]
    return RunResult(answer="Banting", nodes=nodes, tokens_in=10, tokens_out=5, latency_s=49.7)


def test_the_report_says_how_many_calls_the_cache_answered():
    report = agent().report
    assert report(run(0)).splitlines()[-1] == "15 tokens, 49.7 s"
    assert report(run(2)).splitlines()[-1] == (
        "15 tokens, 49.7 s (2 of 2 model calls from the response cache, timed as first measured)")
