"""What a refused `n` probe teaches (models/openai_sampling.py `_probe`), on a stand-in endpoint: only a 400/422
that is not a context overflow is read as a refusal of `n`; a server error, or a prompt longer than the window,
is raised as the calls would raise it and teaches nothing; a limit the refusal states is used only when it is
below the refused `n` (one at or above it is no limit: the samples go as plain requests, sent once each)."""

from __future__ import annotations

import asyncio

import pytest

from rolegraph.models import openai_sampling as ns
from rolegraph.models.openai_errors import CONTEXT_CAUSE, ModelCallError

from .test_openai_sampling_lessons import Refuser

ASK = [{"role": "user", "content": "q"}]


class Refusing(Refuser):
    """`Refuser` with the refusal given (`error`, whatever its status or cause); stops a test that would send `n`
    forever."""

    def __init__(self, error: ModelCallError) -> None:
        super().__init__(error.status or 400)
        self.error = error

    async def _timed_retries(self, client, body):
        self.sent.append(body["n"])
        if len(self.sent) > 5:
            raise AssertionError(f"n sent again and again: {self.sent}")
        raise self.error


def _call(endpoint: Refusing, samples: list[int]):
    return asyncio.run(ns.NSamplingMixin.complete_n(endpoint, ASK, samples=samples))


@pytest.mark.parametrize(
    "error",
    [
        ModelCallError("HTTP 500: upstream failed", status=500),
        ModelCallError("HTTP 400: the prompt exceeds the context of 'n' tokens", status=400, cause=CONTEXT_CAUSE),
    ],
    ids=["server-error", "context-overflow"],
)
def test_a_probe_failing_for_another_reason_is_raised_and_teaches_nothing(error):
    endpoint = Refusing(error)
    with pytest.raises(ModelCallError) as raised:
        _call(endpoint, [0, 1, 2])
    assert raised.value is error
    assert endpoint.sent == [3]  # the probe alone: no plain request after it
    assert (endpoint.n_max, endpoint.n_ok, endpoint.n_support) == (None, 1, None)


def test_a_stated_limit_not_below_the_refused_n_is_no_limit():
    endpoint = Refusing(ModelCallError("HTTP 400: Field 'n': Value must be between 1 <= value <= 4", status=400))
    got = _call(endpoint, [0, 1, 2, 3])
    assert [c.text for c in got] == ["s0", "s1", "s2", "s3"]
    assert endpoint.sent == [4, 1, 1, 1, 1]  # one refused probe, then plain requests
    assert endpoint.n_max == 1
