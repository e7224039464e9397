"""`python -m benchmarks NAME [--quick] [options]`: run one benchmark, write benchmarks/results/NAME.{json,md}.

A benchmark module may add its own options (`add_arguments(parser)`); they reach its `run` as keywords
(`python -m benchmarks generalization --help` lists them). A mistake in the options is one line and exit 2."""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from benchmarks.common import UsageError, start_run

NAMES = ("overhead", "parallelism", "throughput", "search_efficiency", "calibration", "scaling", "estimates", "routing",
         "worlds", "agreement_sim", "generalization", "oracle_floor")
REAL = ("real_local", "agreement_real")
"""Benchmarks on a real local model (llama.cpp's server, SmolLM2; real_local takes minutes even with --quick):
run by name only (not by `all`, not by the smoke test)."""
HELP_FLAGS = ("-h", "--help")
DATA = ("gsm8k_check",)
"""Benchmarks that need a data file the project does not ship (`--data`): run by name only; their own test
runs them on a fixture."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the message and where to look), not the whole usage."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (--help lists the options)\n")


def _parser(module=None) -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("name", choices=NAMES + REAL + DATA + ("all",))
    parser.add_argument("--quick", action="store_true", help="a small, fast variant (the smoke test runs these)")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default: benchmarks/results)")
    if module is not None and hasattr(module, "add_arguments"):
        module.add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    rest = [a for a in argv if a not in HELP_FLAGS]
    if not rest:  # nothing but --help (or nothing): the general help, or the usage
        _parser().parse_args(argv)
    # The name is read without --help, so `NAME --help` lists the module's own options too.
    first, _ = _parser().parse_known_args(rest)
    if first.name == "all":
        args = _parser().parse_args(argv)
        for name in NAMES:  # each its own run: its result records the provenance read at its own start
            importlib.import_module(f"benchmarks.{name}").run(quick=args.quick, out_dir=args.out,
                                                              bench_run=start_run())
        return 0
    module = importlib.import_module(f"benchmarks.{first.name}")
    parser = _parser(module)
    args = vars(parser.parse_args(argv))
    name, quick, out = args.pop("name"), args.pop("quick"), args.pop("out")
    if "json" in args:
        args["as_json"] = args.pop("json")
    bench_run = start_run()
    try:
        module.run(quick=quick, out_dir=out, bench_run=bench_run, **{k: v for k, v in args.items() if v is not None})
    except UsageError as exc:
        parser.prog = f"python -m benchmarks {name}"
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
