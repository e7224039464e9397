"""The Python API module's docstring (rendered into docs/reference/api.md) names only functions that exist."""
from __future__ import annotations

import re

import rolegraph.optimize as package
import rolegraph.optimize.api as api


def test_every_function_the_api_docstring_calls_exists_and_is_exported():
    called = set(re.findall(r"`(?:await )?([a-z_][a-z0-9_]*)\(", api.__doc__ or ""))
    assert {"optimize", "resume_async"} <= called  # the docstring names the entry points
    missing = sorted(name for name in called if not callable(getattr(api, name, None)))
    assert missing == []
    assert all(callable(getattr(package, name, None)) for name in called)
