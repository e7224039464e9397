"""The benchmarks' command-line pieces: option parsers (typer `parser=` callables whose mistakes are one usage line)
and `run_command`, which runs a typer app so that a usage mistake is one line on stderr and exit code 2."""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import typer

from rolegraph.sim.world import MAX_WORLD

USAGE_EXIT_CODE = 2
MAX_LISTED = 1_000_000
"""The most numbers (worlds, seeds) one option may list: far beyond any run, short of a range typed by mistake."""
HELP_FLAGS = ("-h", "--help")


def make_app(**settings: Any) -> typer.Typer:
    """A typer app as every benchmark command line has it: plain help (no rich markup to mangle `[--worlds A-B]`),
    `-h` as well as `--help`, no shell-completion options, no pretty tracebacks."""
    return typer.Typer(
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": list(HELP_FLAGS)},
        **settings,
    )


def run_command(app: typer.Typer, argv: list[str] | None, prog: str) -> Any:
    """Run `app` on `argv` outside click's standalone mode and return what its command returned (click's exit code,
    0, after `--help`). A usage mistake (a wrong or missing option, a parser's `bad_value`) is one line on stderr,
    `PROG: error: ... (--help lists ...)`, and SystemExit(2): never click's usage box nor a traceback."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        return typer.main.get_command(app)(args=argv, prog_name=prog, standalone_mode=False)
    except Exception as exc:  # click's usage errors arrive here outside standalone mode
        line = usage_line(exc, prog)
        if line is None:
            raise
        refuse(line)


def run_function(function: Any, prog: str, argv: list[str] | None = None, about: str | None = None) -> Any:
    """`run_command` for a command line of one command, `function`, whose typer parameters are its options."""
    app = make_app()
    app.command(help=about)(function)
    return run_command(app, argv, prog)


def usage_line(exc: BaseException, prog: str) -> str | None:
    """A click usage error as one line; None for anything else. Recognised by duck type, as `rolegraph.cli` does:
    typer carries its own copy of click, whose exception classes are not `click.exceptions`'."""
    message, code = getattr(exc, "format_message", None), getattr(exc, "exit_code", None)
    if not callable(message) or not isinstance(code, int) or isinstance(code, bool):
        return None
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else prog
    listed = "the commands" if ctx is not None and hasattr(ctx.command, "list_commands") else "the options"
    return f"{where}: error: {message()} (--help lists {listed})"


def refuse(line: str) -> None:
    """A user's mistake: `line` on stderr and exit code 2."""
    print(line, file=sys.stderr)
    raise SystemExit(USAGE_EXIT_CODE)


def unwritable(directory: Path) -> str | None:
    """Why results cannot be written into `directory` (made when missing), or None when they can: asked before a
    benchmark runs, so a wrong `--out` is one usage line at once, not a traceback after minutes of work."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def bad_value(message: str) -> Exception:
    """The error an option's parser raises for a wrong value: typer shows it as one usage line naming the option
    (`python -m benchmarks` prints it and exits 2). A parser called from Python raises it too."""
    return typer.BadParameter(message)


def positive_int(text: str) -> int:
    """An option's parser: a whole number >= 1 (anything else is a one-line usage error)."""
    return _bounded_int(text, 1)


def nonnegative_int(text: str) -> int:
    """An option's parser: a whole number >= 0."""
    return _bounded_int(text, 0)


def _bounded_int(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise bad_value(f"'{text}' is not a whole number") from None
    if value < low:
        raise bad_value(f"{value} is not allowed (at least {low})")
    return value


def parse_numbers(text: str, what: str = "worlds", most: int | None = None) -> tuple[int, ...]:
    """'100-119' or '3,7,100-103' -> the numbers, in order, without repeats (`what` names them in errors); each at
    most `most` when given, and at most `MAX_LISTED` of them (a typo'd range was a MemoryError traceback)."""
    out: dict[int, None] = {}  # a dict: ordered, and repeats dropped in linear time
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        try:
            a, b = int(lo), int(hi) if hi else int(lo)
        except ValueError:
            raise bad_value(f"{what}: '{part}' is not N or A-B") from None
        if b < a or a < 0:
            raise bad_value(f"{what}: '{part}' is an empty or negative range")
        if most is not None and b > most:
            raise bad_value(f"{what}: '{part}' goes past {most:,}, the largest there is")
        if b - a + 1 > MAX_LISTED - len(out):
            raise bad_value(f"{what}: '{text}' lists more than {MAX_LISTED:,}")
        out.update(dict.fromkeys(range(a, b + 1)))
    if not out:
        raise bad_value(f"{what}: none given")
    return tuple(out)


def parse_worlds(text: str) -> tuple[int, ...]:
    """World numbers (`parse_numbers`), each a world the simulator has (0 to `MAX_WORLD`): a larger one passed the
    parser and was a traceback from the simulator once the benchmark began."""
    return parse_numbers(text, "worlds", MAX_WORLD)


def world_number(text: str) -> int:
    """An option's parser: one simulator world, 0 to `MAX_WORLD`."""
    value = _bounded_int(text, 0)
    if value > MAX_WORLD:
        raise bad_value(f"{value} is not a world (0 to {MAX_WORLD:,})")
    return value


def csv_list(kind: type, known: tuple | None = None):
    """An option's parser: a comma list of `kind`, each in `known` when given (numbers must be finite and positive),
    in order, without repeats (`--budgets 18,18` would run one setting twice and count it twice)."""

    def parse(text: str) -> tuple:
        try:
            vals = tuple(dict.fromkeys(kind(x.strip()) for x in text.split(",") if x.strip()))
        except ValueError:
            raise bad_value(f"'{text}' is not a comma-separated list of {kind.__name__}") from None
        if kind in (int, float) and any(not 0 < v < math.inf for v in vals):  # also refuses nan
            raise bad_value(f"'{text}': every value must be finite and positive")
        bad = [v for v in vals if known is not None and v not in known]
        if bad or not vals:
            raise bad_value(f"unknown: {', '.join(map(str, bad)) or 'none given'}")
        return vals

    return parse
