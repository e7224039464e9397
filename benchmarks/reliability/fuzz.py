"""The fuzz and budget properties of tests/reliability with many more examples (a scale factor on every
property's CI count), run through pytest in a subprocess.

    python -m benchmarks.reliability.fuzz [--scale 20]
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from benchmarks.options import positive_int, run_function
from benchmarks.reliability.common import write

ROOT = Path(__file__).resolve().parents[2]
FILES = ("test_fuzz_graphs.py", "test_fuzz_outputs.py", "test_fuzz_feedback.py", "test_budgets.py")
SUMMARY = re.compile(r"(\d+) (passed|failed|xfailed|xpassed|skipped|error)")


def main(
    scale: Annotated[int, typer.Option(parser=positive_int, metavar="N", help="Factor on every property's CI example "
                                       "count.")] = 20,
) -> None:
    rows = []
    for name in FILES:
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout", "3000",
                               str(ROOT / "tests" / "reliability" / name)], cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "ROLEGRAPH_FUZZ_SCALE": str(scale)})
        seconds = time.perf_counter() - started
        tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
        counts = {kind: int(n) for n, kind in SUMMARY.findall(tail)}
        rows.append({"file": name, "exit": proc.returncode, "seconds": round(seconds, 1), **counts, "summary": tail})
        print(f"{name:24s} scale x{scale}: {tail} ({seconds:.0f} s)")
        if proc.returncode != 0:
            print(proc.stdout[-4000:])
    path = write("fuzz", {"scale": scale, "runs": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(run_function(main, "python -m benchmarks.reliability.fuzz", about=__doc__.split("\n\n")[0]))
