"""1,000 concurrent item evaluations through the loopback server under a concurrency limit: time, the
most requests the server had in flight, and memory (peak of traced Python allocations in a second run,
peak resident memory and its growth during the run).

    python -m benchmarks.reliability.load [--items N] [--concurrency C]
"""
from __future__ import annotations

import argparse
import tempfile
from dataclasses import asdict
from pathlib import Path

from rolegraph.tasks.registry import get_task
from tests.reliability.loadrun import GRAPH, MODEL_CONCURRENCY, run_load

from benchmarks.reliability.common import write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    task = get_task("arith", size=args.items)
    items = task.items("all", None, 0)[: args.items]
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs["rss"] = run_load(items, task, Path(tmp) / "a", concurrency=args.concurrency)
        runs["traced"] = run_load(items, task, Path(tmp) / "b", concurrency=args.concurrency, trace_memory=True)
    for name, s in runs.items():
        print(f"{name:7s} {s.items} items x {len(GRAPH.nodes)} calls, concurrency {s.concurrency}: {s.seconds:.1f} s, "
              f"failures {s.failures}, requests {s.requests}, max in flight {s.max_in_flight}, "
              f"RSS growth {s.rss_growth_mb:.1f} MB (peak {s.rss_peak_mb:.1f} MB), traced peak {s.traced_peak_mb:.1f} MB")
    path = write("load", {"graph": GRAPH.model_dump(), "model_max_concurrency": MODEL_CONCURRENCY,
                          "runs": {k: asdict(v) for k, v in runs.items()}})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
