"""`ServeOptions` holds the serving key's value: its repr (what a log line, a traceback's locals or a debugger
prints) must not show it, while the middleware still gets it."""

from __future__ import annotations

from rolegraph.serve.app import ServeOptions

KEY = "sk-serve-SECRET-0123456789"


def test_the_repr_of_serve_options_leaves_the_key_out():
    options = ServeOptions(api_key=KEY, max_concurrent=3)
    shown = f"{options!r} {options!s} {[options]}"
    assert KEY not in shown and "SECRET" not in shown
    assert "max_concurrent=3" in shown  # the rest is still shown
    assert options.api_key == KEY  # kept, only not printed
