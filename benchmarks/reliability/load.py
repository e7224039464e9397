"""1,000 concurrent item evaluations through the loopback server under a concurrency limit: time, the
most requests the server had in flight, and memory (peak of traced Python allocations in a second run,
peak resident memory and its growth during the run).

    python -m benchmarks.reliability.load [--items N] [--concurrency C]
"""
from __future__ import annotations

import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from benchmarks.options import positive_int, run_function
from benchmarks.reliability.common import write
from rolegraph.tasks.registry import get_task
from tests.reliability.loadrun import GRAPH, MODEL_CONCURRENCY, run_load


def main(
    size: Annotated[int, typer.Option("--items", parser=positive_int, metavar="N",
                                      help="Arith items evaluated.")] = 1000,
    concurrency: Annotated[int, typer.Option(parser=positive_int, metavar="C", help="Concurrency limit.")] = 64,
) -> None:
    task = get_task("arith", size=size)
    items = task.items("all", None, 0)[:size]
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs["rss"] = run_load(items, task, Path(tmp) / "a", concurrency=concurrency)
        runs["traced"] = run_load(items, task, Path(tmp) / "b", concurrency=concurrency, trace_memory=True)
    for name, s in runs.items():
        print(f"{name:7s} {s.items} items x {len(GRAPH.nodes)} calls, concurrency {s.concurrency}: {s.seconds:.1f} s, "
              f"failures {s.failures}, requests {s.requests}, max in flight {s.max_in_flight}, "
              f"RSS growth {s.rss_growth_mb:.1f} MB (peak {s.rss_peak_mb:.1f} MB), "
              f"traced peak {s.traced_peak_mb:.1f} MB")
    path = write("load", {"graph": GRAPH.model_dump(), "model_max_concurrency": MODEL_CONCURRENCY,
                          "runs": {k: asdict(v) for k, v in runs.items()}})
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(run_function(main, "python -m benchmarks.reliability.load", about=__doc__.split("\n\n")[0]))
