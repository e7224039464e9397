"""The `rolegraph` command. Each sub-module registers its commands; imports stay lazy so --help is fast."""

from __future__ import annotations

import sys

import typer

from rolegraph.errors import RolegraphError


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="rolegraph",
        help="Compose LLM agents into role graphs, run them, and search for the best graph under a budget.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    from rolegraph.cli import eval_cmd, graph_cmd, models_cmd, optimize_cmd, route_cmd, serve_cmd

    for module in (models_cmd, serve_cmd, graph_cmd, eval_cmd, optimize_cmd, route_cmd):
        module.register(app)
    return app


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and exit code 2."""
    app = build_app()
    try:
        rc = app(args=argv, standalone_mode=False)
    except RolegraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(2)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise
    if isinstance(rc, int) and rc != 0:  # click returns typer.Exit codes in non-standalone mode
        sys.exit(rc)
