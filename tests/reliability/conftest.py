"""Shared helpers for the reliability suite: the CLI in-process and as a process, a loopback server
fixture, pool files, and a byte-level search of a directory tree (search helpers: searching.py).

Everything runs on the simulated pool (directly or behind the project's own loopback server), so
the suite needs no network and no key; seeds make every run repeatable.
"""
from __future__ import annotations

import functools
import io
import os
import subprocess
import sys
from contextlib import ExitStack, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from rolegraph.cli import build_app as _real_build_app
from rolegraph.sim.faults import FaultConfig
from rolegraph.models.pool import ModelPool
from rolegraph.chat.spec import ModelSpec
from rolegraph.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FUZZ_SCALE_ENV = "ROLEGRAPH_FUZZ_SCALE"
SUBPROCESS_TIMEOUT_S = 240.0


def examples(n: int) -> int:
    """Hypothesis examples for a property: `n` in CI, times $ROLEGRAPH_FUZZ_SCALE in the long variant
    (benchmarks/reliability/fuzz.py)."""
    return n * max(1, int(os.environ.get(FUZZ_SCALE_ENV, "1")))


@dataclass
class CliRun:
    code: int
    out: str
    err: str


class _PrebuiltApp:
    """Stands in for the typer app inside `rolegraph.cli.main`: the same click command, built once.

    Typer rebuilds its click command on every call (~0.2 s); fuzzing calls the CLI hundreds of times.
    """

    def __init__(self):
        import typer

        self.command = typer.main.get_command(_real_build_app())

    def __call__(self, args: list[str], standalone_mode: bool = False):
        return self.command.main(args=args, standalone_mode=standalone_mode)


@functools.cache
def _prebuilt() -> _PrebuiltApp:
    return _PrebuiltApp()


def cli(argv: list[str]) -> CliRun:
    """The real entry point (`rolegraph.cli.main`, its error handling included) in-process.
    Anything but SystemExit (a traceback) propagates and fails the test."""
    import rolegraph.cli
    from rolegraph.cli import main

    # encoded like a real process's stdio: stdout strict UTF-8, stderr with backslash escapes
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True)
    code = 0
    with redirect_stdout(out), redirect_stderr(err), mock.patch.object(rolegraph.cli, "build_app", _prebuilt):
        try:
            main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return CliRun(code, out.buffer.getvalue().decode(), err.buffer.getvalue().decode())


def cli_process(argv: list[str], env: dict[str, str] | None = None, timeout: float = SUBPROCESS_TIMEOUT_S,
                cwd: Path | None = None) -> CliRun:
    """`python -m rolegraph ...` as a real process (its own stdio encodings, its own exit path)."""
    proc = subprocess.run([sys.executable, "-m", "rolegraph", *map(str, argv)], capture_output=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, cwd=cwd)
    return CliRun(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


def assert_clean_user_error(run: CliRun) -> str:
    """Exit 2, no traceback, nothing on stdout, and a first line `error: ...` that stands on its own.

    A graph with several problems lists them one per line under the first (`  - ...`)."""
    assert run.code == 2, (run.code, run.out[-500:], run.err[-2000:])
    assert "Traceback" not in run.err, run.err[-2000:]
    assert run.out == "", run.out[-500:]
    lines = run.err.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    assert lines and lines[0].startswith("error: ") and len(lines[0]) > len("error: "), run.err[:500]
    assert all(line.startswith("  - ") for line in lines[1:]), run.err[:2000]
    return lines[0]


def pool_yaml(path: Path, specs: list[ModelSpec]) -> Path:
    """A pool file with `specs` (what a user would write), for CLI runs."""
    import yaml

    entries = [s.model_dump(exclude_defaults=True) for s in specs]
    path.write_text(yaml.safe_dump({"models": entries}, sort_keys=False))
    return path


def files_containing(root: Path, needle: bytes) -> list[Path]:
    """Every file under `root` whose bytes contain `needle` (SQLite files, WAL and journals included)."""
    hits = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and needle in path.read_bytes():
            hits.append(path)
    return hits


@pytest.fixture
def serve(tmp_path):
    """serve(faults=None) -> a started loopback ServerThread over the built-in sim pool; stopped at teardown."""
    from rolegraph.sim.server import ServerThread, create_app

    with ExitStack() as stack:
        def start(faults: FaultConfig | None = None, pool: ModelPool | None = None):
            app = create_app(pool or ModelPool.builtin(), Settings(home=tmp_path / "server-home", cache=False),
                             faults)
            return stack.enter_context(ServerThread(app))

        yield start
