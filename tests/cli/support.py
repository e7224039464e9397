"""Running the command line in-process, as the tests of tests/cli do: exit code, stdout, stderr."""
from __future__ import annotations

import os
from pathlib import Path

from rolegraph.cli import main


def cli(argv, capsys) -> tuple[int, str, str]:
    """`rolegraph ARGV` in this process: (exit code, stdout, stderr); a command that returns is code 0."""
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def run_cli(capsys, *argv: object) -> tuple[int, str, str]:
    """`cli` with the arguments spread: run_cli(capsys, "eval", graph, "--n", 2)."""
    return cli(argv, capsys)


def cli_in_home(home: Path, *argv: object, code: int = 0) -> None:
    """`rolegraph ARGV` with ROLEGRAPH_HOME=home and ROLEGRAPH_POOL unset for its duration (a module- or
    session-scoped fixture has no monkeypatch), asserting its exit code (`code`: 2 for a search its dollar cap
    stops); both variables are put back as they were."""
    old = {name: os.environ.get(name) for name in ("ROLEGRAPH_HOME", "ROLEGRAPH_POOL")}
    os.environ["ROLEGRAPH_HOME"] = str(home)
    os.environ.pop("ROLEGRAPH_POOL", None)
    try:
        main([str(a) for a in argv])
        got = 0
    except SystemExit as exc:
        got = exc.code or 0
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    assert got == code, f"rolegraph {' '.join(map(str, argv))}: exit {got}, expected {code}"
