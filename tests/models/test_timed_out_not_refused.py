"""Only an attempt abandoned at `timeout_s` is counted as timed out (`OpenAIChatModel._after_failure`): a
connection the endpoint refused sent no request, so nothing can be billed for it, and it is neither counted in
`CallStats.timed_out` nor said as a `TimedOutWarning`."""

from __future__ import annotations

import asyncio
import socket
import warnings

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.openai_backend import ModelCallError, OpenAIChatModel
from rolegraph.models.timeouts import TimedOutWarning
from rolegraph.settings import Settings


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_connection_is_not_counted_as_timed_out(tmp_path):
    spec = ModelSpec(
        id="llc/gone",
        backend="openai",
        base_url=f"http://127.0.0.1:{_closed_port()}/v1",
        model="gone",
        timeout_s=5.0,
        max_retries=0,
        price_in=50.0,
        price_out=100.0,
    )
    model = OpenAIChatModel(spec, Settings(home=tmp_path / "home"))

    async def call() -> None:
        try:
            await model.complete([{"role": "user", "content": "2+5?"}], max_tokens=100)
        finally:
            await model.aclose()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ModelCallError):
            asyncio.run(call())
    assert model.timeout_books.stats.timed_out == {} and model.timeout_books.stats.timed_out_usd == 0.0
    assert not [w for w in caught if issubclass(w.category, TimedOutWarning)]
