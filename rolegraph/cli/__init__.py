"""The `rolegraph` command. Each sub-module registers its commands; imports stay lazy so --help is fast."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any

import typer

from rolegraph.cli.help_text import unwrap_app_help
from rolegraph.cli.interrupt import Interrupted
from rolegraph.errors import RolegraphError, RolegraphWarning, one_line

USAGE_EXIT_CODE = 2  # click's code for a usage error (and for bare invocation of a no_args_is_help group)
ABORT_EXIT_CODE = 1
INTERRUPT_EXIT_CODE = 130
ABORT_NAMES = frozenset({"Abort"})
"""Class names of click's and typer's "abort" signal (Ctrl-C at a prompt): the user stopped, no message."""
NO_ARGS_IS_HELP = "NoArgsIsHelpError"  # click's usage error for a group run without its command: shows the help
PROG = "rolegraph"


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="rolegraph",
        help="Compose LLM agents into role graphs, run them, and search for the best graph under a budget.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    from rolegraph.cli import (
        demo_cmd,
        eval_cmd,
        graph_cmd,
        models_cmd,
        optimize_cmd,
        results_cmd,
        route_cmd,
        serve_cmd,
        serve_graph_cmd,
    )

    for module in (
        models_cmd,
        serve_cmd,
        serve_graph_cmd,
        graph_cmd,
        eval_cmd,
        results_cmd,
        optimize_cmd,
        demo_cmd,
        route_cmd,
    ):
        module.register(app)
    unwrap_app_help(app)
    return app


def _usage_error(exc: BaseException) -> Any | None:
    """The exception as a click usage error (anything with `show()` and an int `exit_code`), else None.

    Recognised by duck type, never by class: typer 0.29 carries its own copy of click as `typer._click`,
    whose exception classes are not `click.exceptions`' (and older typers use click itself)."""
    show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
    if callable(show) and isinstance(code, int) and not isinstance(code, bool):
        return exc
    return None


def usage_line(exc: Any) -> str:
    """A click usage error as one line naming the command and where its options are listed: click's own
    rendering is four (usage, a hint, a blank, the error), where every other mistake here is one."""
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else PROG
    listed = "commands" if ctx is None or hasattr(ctx.command, "list_commands") else "options"
    return f"{where}: error: {exc.format_message()} (`{where} --help` lists the {listed})"


def _is_abort(exc: BaseException) -> bool:
    return any(cls.__name__ in ABORT_NAMES for cls in type(exc).__mro__)


OWN_MODULES = "rolegraph."
"""Warnings of classes defined here are rolegraph's own, `RolegraphWarning` or not (`agents.registry`'s
`ReplacedBuiltinWarning` keeps its base: that file is part of the simulator's fingerprint)."""


def warning_lines(shown: Callable[..., None]) -> Callable[..., None]:
    """A `warnings.showwarning` that prints rolegraph's own warnings (`RolegraphWarning`, `OWN_MODULES`) as one
    `warning: ...` line on stderr, each text once per command, and hands any other warning to `shown` (Python's
    display): a user of the command line acts on the message, and the file, line number and source line Python
    adds point into rolegraph's code, not at anything they wrote."""
    said: set[str] = set()

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, *args: Any) -> None:
        if not (issubclass(category, RolegraphWarning) or category.__module__.startswith(OWN_MODULES)):
            shown(message, category, filename, lineno, *args)
            return
        text = one_line(message, None)
        if text not in said:
            said.add(text)
            print(f"warning: {text}", file=sys.stderr)

    return show


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and exit code 2; so do usage errors (a wrong option
    or value: `usage_line`), whatever typer/click version is installed, while a bare `rolegraph` or a group
    without its command shows its help (exit 2, as click does); Ctrl-C is one
    line ("interrupted", with what was kept when the command says so: `cli.interrupt`) and exit code 130.
    Rolegraph's warnings print as one line each (`warning_lines`) for the command's duration only: the display
    and filters are put back as they were when it returns, so a Python caller of `main` keeps its own."""
    with warnings.catch_warnings():
        if not sys.warnoptions:  # the user's -W / PYTHONWARNINGS rule (ignore, error) stands
            warnings.simplefilter("always", RolegraphWarning)  # each said once by `warning_lines`, not per code line
        warnings.showwarning = warning_lines(warnings.showwarning)
        _main(argv)


def _main(argv: list[str] | None) -> None:
    app = build_app()
    try:
        rc = app(args=argv, standalone_mode=False)
    except RolegraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Interrupted as exc:  # Ctrl-C in a command that says what it kept
        print(f"interrupted: {exc}", file=sys.stderr)
        sys.exit(INTERRUPT_EXIT_CODE)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(INTERRUPT_EXIT_CODE)
    except Exception as exc:  # click's usage errors arrive here in non-standalone mode
        usage = _usage_error(exc)
        if usage is not None:
            if type(usage).__name__ == NO_ARGS_IS_HELP:  # asked for nothing: the help is the answer
                usage.show()
            else:
                print(usage_line(usage), file=sys.stderr)
            sys.exit(usage.exit_code or USAGE_EXIT_CODE)
        if _is_abort(exc):
            print("aborted", file=sys.stderr)
            sys.exit(ABORT_EXIT_CODE)
        raise
    if rc == INTERRUPT_EXIT_CODE:  # typer's Exit(130) for a Ctrl-C no command caught: never a silent exit
        print("interrupted", file=sys.stderr)
    if isinstance(rc, int) and rc != 0:  # click returns typer.Exit codes in non-standalone mode
        sys.exit(rc)
