"""A stop part way through a split `n` call (models/openai_sampling.py, in_flight.py): the call ends `Unsent`
carrying, by sample, every completion a request that was sent brought back (a probe's, an `n` part's, the first
choices of a short reply), and none of the parts a stop kept from being sent; without a stop the samples come back
in order. A stand-in endpoint answers choice i of a request for samples s.. with the text `s<s+i>` and is "stopped"
(raises `Unsent`, as `in_flight.sending` does) for the requests the test names."""

from __future__ import annotations

import asyncio

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import Completion
from rolegraph.models import openai_sampling as ns
from rolegraph.models.in_flight import Unsent

URL, NAME = "http://127.0.0.1:9/v1", "m"
ASK = [{"role": "user", "content": "q"}]


class Endpoint:
    """`n_ok`/`n_max`: what the model already knows; `short`: choices left out of every `n` reply; `stop_n`: the
    first samples of the `n` requests a stop refuses; `stop_plain`: the samples whose plain requests it refuses."""

    def __init__(self, n_ok=1, n_max=None, short=0, stop_n=(), stop_plain=()) -> None:
        self.spec = ModelSpec(id="http/m", backend="openai", base_url=URL, model=NAME)
        self.n_support, self.n_ok, self.n_max, self.n_usage, self.endpoint_lessons = None, n_ok, n_max, None, None
        self._n_probe = None
        self.short, self.stop_n, self.stop_plain = short, set(stop_n), set(stop_plain)
        self.sent: list[tuple[int, int]] = []  # (first sample, n) of each request sent

    def _loop_state(self):
        return None, asyncio.Semaphore(4)

    def _request(self, messages, temperature, max_tokens, seed, tools, sample, answer_key):
        return {"model": NAME, "messages": messages, "first": sample}

    async def _timed_retries(self, client, body):
        await asyncio.sleep(0)
        if body["first"] in self.stop_n:
            raise Unsent
        self.sent.append((body["first"], body["n"]))
        choices = [
            {"index": i, "message": {"role": "assistant", "content": f"s{body['first'] + i}"}, "finish_reason": "stop"}
            for i in range(body["n"] - self.short)
        ]
        return {"choices": choices, "model": NAME}, 0.1

    async def complete(self, messages, *, sample: int = 0, **_):
        await asyncio.sleep(0)
        if sample in self.stop_plain:
            raise Unsent
        self.sent.append((sample, 1))
        return Completion(text=f"s{sample}", model_id="http/m")


def _call(endpoint: Endpoint, samples: list[int]):
    return asyncio.run(ns.NSamplingMixin.complete_n(endpoint, ASK, samples=samples))


def _texts(done: dict[int, Completion]) -> dict[int, str]:
    return {sample: c.text for sample, c in done.items()}


def test_without_a_stop_the_parts_come_back_in_sample_order():
    endpoint = Endpoint(n_ok=2, n_max=2)
    got = _call(endpoint, [0, 1, 2, 3, 4])
    assert [c.text for c in got] == ["s0", "s1", "s2", "s3", "s4"]
    assert sorted(endpoint.sent) == [(0, 2), (2, 2), (4, 1)]  # two n=2 parts and one plain request


def test_a_stop_between_parts_keeps_every_sent_parts_samples_and_none_of_the_unsent():
    endpoint = Endpoint(n_ok=2, n_max=2, stop_n={2})  # parts [0, 1], [2, 3], [4]: the middle one is not sent
    with pytest.raises(Unsent) as stopped:
        _call(endpoint, [0, 1, 2, 3, 4])
    assert _texts(stopped.value.done) == {0: "s0", 1: "s1", 4: "s4"}


def test_a_stop_after_a_short_probe_keeps_the_probes_completions():
    # knows nothing: n=4 is a probe, answered with 2 choices (the limit becomes 2); the next part [2, 3] is stopped
    endpoint = Endpoint(short=2, stop_n={2})
    with pytest.raises(Unsent) as stopped:
        _call(endpoint, [0, 1, 2, 3])
    assert endpoint.sent == [(0, 4)] and endpoint.n_max == 2
    assert _texts(stopped.value.done) == {0: "s0", 1: "s1"}


def test_a_stop_before_a_short_replys_missing_sample_keeps_the_choices_that_came():
    endpoint = Endpoint(n_ok=3, short=1, stop_plain={2})  # n=3 answered with 2; sample 2's plain request stopped
    with pytest.raises(Unsent) as stopped:
        _call(endpoint, [0, 1, 2])
    assert _texts(stopped.value.done) == {0: "s0", 1: "s1"}
