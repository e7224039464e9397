"""`python -m benchmarks NAME [--quick]`: run one benchmark, write benchmarks/results/NAME.{json,md}."""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

NAMES = ("overhead", "parallelism", "throughput", "search_efficiency", "calibration", "scaling", "estimates", "routing",
         "worlds", "agreement_real")
REAL = ("real_local",)
"""Benchmarks on a real local model (llama.cpp's server, SmolLM2): minutes even with --quick, so they are
run by name only (not by `all`, not by the smoke test)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("name", choices=NAMES + REAL + ("all",))
    parser.add_argument("--quick", action="store_true", help="a small, fast variant (the smoke test runs these)")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default: benchmarks/results)")
    args = parser.parse_args(argv)
    for name in NAMES if args.name == "all" else (args.name,):
        module = importlib.import_module(f"benchmarks.{name}")
        module.run(quick=args.quick, out_dir=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
