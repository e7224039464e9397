"""The command line's defaults are the library's: `optimize`'s search sizes are SearchConfig's and `serve`'s
limits are ServeOptions', read from one place each (they were copies: 4, 16, 48, 100; 300.0, 4, 1 << 20)."""
from __future__ import annotations

import typer

from rolegraph.cli import build_app
from rolegraph.optimize.context import SearchConfig
from rolegraph.serve.app import ServeOptions


def _defaults(command: str) -> dict[str, object]:
    click_app = typer.main.get_command(build_app())
    cmd = click_app.commands[command]  # type: ignore[attr-defined]
    return {p.name: p.default for p in cmd.params}


def test_optimize_states_the_search_defaults_of_search_config():
    shown, config = _defaults("optimize"), SearchConfig()
    for name in ("samples", "batch", "validation_items", "test_items"):
        assert shown[name] == getattr(config, name), name


def test_serve_states_the_limits_of_serve_options():
    shown, options = _defaults("serve"), ServeOptions()
    assert shown["timeout_s"] == options.timeout_s
    assert shown["max_concurrent"] == options.max_concurrent
    assert shown["max_request_bytes"] == options.max_request_bytes
