"""The `rolegraph` typer app as a module-level object, for `typer ... utils docs` (docs/hooks.py)."""

from rolegraph.cli import build_app

app = build_app()
