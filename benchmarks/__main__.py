"""`python -m benchmarks NAME [--quick] [--out DIR] [options]`: run one benchmark, write
benchmarks/results/NAME.{json,md}.

A benchmark module may declare its own options (`options`, typer parameters); they reach its `run` as keywords
(`python -m benchmarks generalization --help` lists them). `--quick` and `--out` are taken before or after NAME.
A mistake in the options, or one a benchmark's `run` finds (`UsageError`), is one line and exit 2; so is an `--out`
that cannot be written, found before anything runs. Ctrl-C is one line saying what was kept, and exit code 130."""

from __future__ import annotations

import importlib
import inspect
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer

from benchmarks.common import RESULTS_DIR, UsageError, start_run
from benchmarks.options import make_app, refuse, run_command, unwritable

PROG = "python -m benchmarks"
NAMES = (
    "overhead",
    "parallelism",
    "throughput",
    "search_efficiency",
    "calibration",
    "scaling",
    "estimates",
    "routing",
    "worlds",
    "agreement_sim",
    "generalization",
    "oracle_floor",
)
REAL = ("real_local", "agreement_real")
"""Benchmarks on a real local model (llama.cpp's server, SmolLM2; real_local takes minutes even with --quick):
run by name only (not by `all`, not by the smoke test)."""
DATA = ("gsm8k_check",)
"""Benchmarks that need a data file the project does not ship (`--data`): run by name only; their own test
runs them on a fixture."""
QUICK_HELP = "A small, fast variant (the smoke test runs these)."
OUT_HELP = "Results directory (default: benchmarks/results)."
INTERRUPT_EXIT_CODE = 130
"""128 + SIGINT: the shell's code for Ctrl-C, as `rolegraph`'s commands exit."""
QuickOption = Annotated[bool, typer.Option("--quick", help=QUICK_HELP)]
UNSMOKED_QUICK_HELP = "A smaller variant (not in the smoke test, which has no real model nor data file)."
UnsmokedQuick = Annotated[bool, typer.Option("--quick", help=UNSMOKED_QUICK_HELP)]
"""`--quick` of the real-model and data benchmarks: the smoke test never runs them (real_local's takes minutes)."""
OutOption = Annotated[Path | None, typer.Option("--out", help=OUT_HELP, metavar="DIR")]
SHARED = (
    inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context),
    inspect.Parameter("quick", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=QuickOption),
    inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=OutOption),
)
"""The parameters every benchmark's command takes after NAME (`--quick`, `--out`), ahead of its own `options`."""


@dataclass(frozen=True)
class Launch:
    """What the command line asked for: a benchmark (or "all"), its mode and results directory, and the keywords
    its own options give its `run` (an option not given is left out, so `run` applies its own default)."""

    name: str
    quick: bool
    out: Path | None
    keywords: dict[str, Any] = field(default_factory=dict)


def _launch(ctx: typer.Context, name: str, quick: bool, out: Path | None, keywords: dict[str, Any]) -> Launch:
    """The launch, with `--quick` / `--out` given before NAME (the group's) or after it (the command's; it wins)."""
    before = ctx.parent.params if ctx.parent is not None else {}
    return Launch(
        name,
        quick or bool(before.get("quick")),
        out if out is not None else before.get("out"),
        {k: v for k, v in keywords.items() if v is not None},
    )


def _command(name: str, module: ModuleType | None) -> Any:
    """The typer command of one benchmark: the shared parameters, then the module's `options` (typer parameters
    named as its `run`'s keywords; a module without options takes only the shared ones). The function's signature
    is built from those, so `NAME --help` lists them with their help; it returns the `Launch`, run by `main`."""
    declare = getattr(module, "options", None)
    own = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in (inspect.signature(declare, eval_str=True).parameters.values() if declare is not None else ())
    ]

    def command(ctx: typer.Context, quick: bool, out: Path | None, **chosen: Any) -> Launch:
        keywords = declare(**chosen) if declare is not None else {}
        return _launch(ctx, name, quick, out, keywords)

    shared = SHARED if name not in REAL + DATA else (SHARED[0], SHARED[1].replace(annotation=UnsmokedQuick), SHARED[2])
    command.__signature__ = inspect.Signature([*shared, *own])  # type: ignore[attr-defined]
    return command


def _about(module: ModuleType | None, fallback: str) -> str:
    """A command's help: the first paragraph of its module's docstring."""
    doc = inspect.getdoc(module) if module is not None else None
    return " ".join(doc.split("\n\n")[0].split()) if doc else fallback


def build_app() -> typer.Typer:
    app = make_app(name=PROG, help=__doc__)

    @app.callback()
    def shared(quick: QuickOption = False, out: OutOption = None) -> None:
        """`--quick` / `--out` before NAME: read by the command (`_launch`)."""

    for name in NAMES + REAL + DATA:
        module = importlib.import_module(f"benchmarks.{name}")
        app.command(name, help=_about(module, name))(_command(name, module))
    every = f"Every benchmark but the real-model and data ones, one after another: {', '.join(NAMES)}."
    app.command("all", help=every)(_command("all", None))
    return app


def main(argv: list[str] | None = None) -> int:
    try:
        chosen = run_command(build_app(), argv, PROG)  # imports every benchmark: seconds on a loaded machine
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted before any benchmark ran", file=sys.stderr)
        return INTERRUPT_EXIT_CODE
    if not isinstance(chosen, Launch):  # --help was shown: click's exit code
        raise SystemExit(chosen or 0)
    out = chosen.out or RESULTS_DIR
    problem = unwritable(out)
    if problem is not None:
        refuse(f"{PROG} {chosen.name}: error: --out {out}: cannot write there: {problem} (--help lists the options)")
    names = NAMES if chosen.name == "all" else (chosen.name,)
    finished: list[str] = []
    started = time.time()
    try:
        for name in names:  # each its own run: its result records the provenance read at its own start
            keywords = chosen.keywords if name == chosen.name else {}
            importlib.import_module(f"benchmarks.{name}").run(
                quick=chosen.quick, out_dir=chosen.out, bench_run=start_run(), **keywords
            )
            finished.append(name)
    except UsageError as exc:
        refuse(f"{PROG} {chosen.name}: error: {exc} (--help lists the options)")
    except KeyboardInterrupt:
        print(f"{PROG} {chosen.name}: interrupted: {interrupted(out, names, finished, started)}", file=sys.stderr)
        return INTERRUPT_EXIT_CODE
    return 0


def interrupted(out: Path, names: tuple[str, ...], finished: list[str], started: float) -> str:
    """What a Ctrl-C kept: the benchmark it stopped writes nothing (a result is written whole at its end), those
    `all` finished before it have their files, and the truth tables saved since the run started (the search
    benchmarks save them as they go) are reused by the same command."""
    from benchmarks.truth import CACHE_SUBDIR  # here: the module top stays light, so start-up is quick to stop

    stopped = f"{names[len(finished)]} wrote no result" if len(names) > 1 else "no result written"
    text = stopped + (f" (finished and written: {', '.join(finished)})" if finished else "")
    cache = out / CACHE_SUBDIR
    saved = [p for p in cache.glob("*.json") if p.stat().st_mtime >= started] if cache.is_dir() else []
    if saved:
        text += f"; {len(saved)} truth table(s) saved in {cache}, which the same command reuses"
    return text


if __name__ == "__main__":
    sys.exit(main())
