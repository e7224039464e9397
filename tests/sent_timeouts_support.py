"""A spy on the timeouts each request of the real `openai` client is sent with: what its HTTP library enforces
(httpx; httpx2 in openai 3), read off the request its transport sends. Tests of a model's `timeout_s` assert these
instead of the wall time a call took (timing goals live in benchmarks/)."""

from __future__ import annotations

import importlib
from typing import Any

import openai
import pytest


def _openai_transport() -> type:
    """The transport class of the HTTP library the installed openai client sends with."""
    client_base = openai.DefaultAsyncHttpxClient.__mro__[1]
    return importlib.import_module(client_base.__module__.partition(".")[0]).AsyncHTTPTransport


def spy_on_sent_timeouts(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """For the rest of the test, each request the openai client sends appends its timeouts ({"connect", "read",
    "write", "pool"}: seconds) to the list returned."""
    sent: list[dict[str, Any]] = []
    transport = _openai_transport()
    send = transport.handle_async_request

    async def spy(self: Any, request: Any) -> Any:
        sent.append(request.extensions["timeout"])
        return await send(self, request)

    monkeypatch.setattr(transport, "handle_async_request", spy)
    return sent


def every_phase(seconds: float) -> dict[str, float]:
    """The timeouts of a request sent with one timeout for every phase."""
    return dict.fromkeys(("connect", "read", "write", "pool"), seconds)
