"""A stream whose opening failed after retries says how many attempts were made, as a plain call's error does:
"after 3 attempts" tells a flaky endpoint from one that was never retried. Against serve-sim failing every
request with HTTP 500 (a transient failure, so each is retried)."""

from __future__ import annotations

import asyncio

import pytest

from rolegraph.models.openai_backend import ModelCallError, OpenAIChatModel
from rolegraph.sim.faults import FaultConfig
from tests.models.conftest import RecordingSleep, http_spec, task_calls

ATTEMPTS = 3


async def _fail(model: OpenAIChatModel, how: str) -> str:
    messages, key = task_calls(1)[0]
    try:
        with pytest.raises(ModelCallError) as info:
            if how == "call":
                await model.complete(messages, answer_key=key)
            else:
                async for _ in model.stream(messages, answer_key=key):
                    pass
        return str(info.value)
    finally:
        await model.aclose()


@pytest.mark.parametrize("how", ["stream", "call"])
def test_a_failed_stream_says_how_many_attempts_like_a_call(how, serve, settings):
    server = serve(FaultConfig(rate=1.0, kinds=["500"]))
    model = OpenAIChatModel(http_spec(server.base_url), settings, max_attempts=ATTEMPTS, sleep=RecordingSleep())
    message = asyncio.run(_fail(model, how))
    assert f"after {ATTEMPTS} attempts" in message and "HTTP 500" in message and "\n" not in message
    assert server.app.state.stats.faults["500"] == ATTEMPTS  # it really tried that often


def test_a_stream_refused_for_good_says_nothing_of_attempts(serve, settings):
    """A permanent failure (here: a model the server does not serve, HTTP 404, met by the plain call serve-sim's
    refusal of `stream: true` falls back to) is tried once: no count."""
    server = serve()
    spec = http_spec(server.base_url, model="no-such-model")
    model = OpenAIChatModel(spec, settings, max_attempts=ATTEMPTS, sleep=RecordingSleep())
    message = asyncio.run(_fail(model, "stream"))
    assert "HTTP 404" in message and "attempts" not in message and "\n" not in message
