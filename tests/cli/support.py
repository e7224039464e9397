"""Running the command line in-process, as the tests of tests/cli do: exit code, stdout, stderr."""
from __future__ import annotations

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
