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


def cli_in_home(home: Path, *argv: object) -> None:
    """`rolegraph ARGV` with ROLEGRAPH_HOME=home for its duration (a module- or session-scoped fixture has no
    monkeypatch), asserting it succeeded; the variable is put back as it was."""
    old = os.environ.get("ROLEGRAPH_HOME")
    os.environ["ROLEGRAPH_HOME"] = str(home)
    try:
        main([str(a) for a in argv])
    except SystemExit as exc:
        assert exc.code in (0, None)
    finally:
        if old is None:
            os.environ.pop("ROLEGRAPH_HOME")
        else:
            os.environ["ROLEGRAPH_HOME"] = old
