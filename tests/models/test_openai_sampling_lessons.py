"""What a model learns about `n` and starts from (models/openai_sampling.py), on a stand-in for the model's state:
a lesson kept by the pool only narrows what the model knows (the smaller limit, the larger `n` answered in full,
the first usage rule); a request of more samples than answered in full is a probe, one sample never is; requests
carry at most the limit; a limit is at least 1, only ever lowered, and said once; and `n_support` reads yes once
some n >= 2 came back in full, no once the limit is 1, unknown before either."""
from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from rolegraph.models import openai_sampling as ns
from rolegraph.models.pool import EndpointLessons, NLesson

URL, NAME = "http://127.0.0.1:9/v1", "m"


def model(n_ok: int = 1, n_max: int | None = None, n_usage: str | None = None, lessons=None):
    spec = SimpleNamespace(endpoint=URL, api_name=NAME, id="http/m", public_endpoint=URL)
    return SimpleNamespace(spec=spec, n_ok=n_ok, n_max=n_max, n_usage=n_usage, n_support=None,
                           endpoint_lessons=lessons)


def kept(lesson: NLesson) -> EndpointLessons:
    lessons = EndpointLessons()
    lessons.keep(URL, NAME, lesson)
    return lessons


@pytest.mark.parametrize(
    ("own", "lesson", "after"),
    [
        ((1, None), NLesson(n_ok=2, n_max=4), (2, 4)),  # knew nothing: takes the lesson
        ((1, 3), NLesson(n_ok=1, n_max=5), (1, 3)),  # its own smaller limit stays
        ((1, 6), NLesson(n_ok=1, n_max=2), (1, 2)),  # the lesson's smaller limit wins
        ((4, None), NLesson(n_ok=2, n_max=None), (4, None)),  # its own larger n answered stays
        ((3, 8), NLesson(n_ok=1, n_max=2), (2, 2)),  # answered in full is never above the limit
    ],
)
def test_a_kept_lesson_only_narrows_what_the_model_knows(own, lesson, after):
    m = model(*own, lessons=kept(lesson))
    ns._recall(m)
    assert (m.n_ok, m.n_max) == after


def test_a_kept_usage_rule_is_taken_and_never_replaces_the_models_own():
    m = model(lessons=kept(NLesson(n_usage="first")))
    ns._recall(m)
    assert m.n_usage == "first"
    m = model(n_usage="summed", lessons=kept(NLesson(n_usage="first")))
    ns._recall(m)
    assert m.n_usage == "summed"


@pytest.mark.parametrize(
    ("n_ok", "size", "probe"),
    [(1, 1, False), (1, 2, True), (2, 2, False), (2, 3, True), (4, 3, False), (4, 5, True)],
)
def test_a_request_is_a_probe_exactly_when_it_asks_more_than_was_answered_in_full(n_ok, size, probe):
    assert ns._is_probe(model(n_ok=n_ok), size) is probe


@pytest.mark.parametrize(("n_max", "k", "size"), [(None, 7, 7), (3, 7, 3), (3, 2, 2), (1, 5, 1)])
def test_a_request_carries_at_most_the_limit(n_max, k, size):
    assert ns._size(model(n_max=n_max), k) == size


def test_a_limit_is_at_least_1_only_lowered_and_said_once(caplog):
    m = model(n_ok=4)
    with caplog.at_level(logging.WARNING, logger=ns.__name__):
        ns._limit(m, 3, "it refused n=4")
        assert (m.n_max, m.n_ok) == (3, 3)
        ns._limit(m, 5, "it returned 5 choices")  # not news: a larger limit never raises it
        assert m.n_max == 3
        ns._limit(m, 0, "it returned 0 choice(s) for n=2")  # no choice at all: no n, plain requests
        assert (m.n_max, m.n_ok) == (1, 1)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2
    assert "takes n up to 3" in said[0] and "does not take n" in said[1]


@pytest.mark.parametrize(
    ("n_ok", "n_max", "support"),
    [(1, None, None), (2, None, True), (2, 2, True), (1, 1, False), (1, 3, None)],
)
def test_n_support_reads_what_was_learnt(n_ok, n_max, support):
    lessons = EndpointLessons()
    m = model(n_ok=n_ok, n_max=n_max, lessons=lessons)
    ns._settle(m)
    assert m.n_support is support
    assert lessons.recall(URL, NAME) == NLesson(n_ok=n_ok, n_max=n_max)  # kept for the pool's next model


class Refuser:
    """A stand-in endpoint that refuses any `n` above 1 with `status` and answers plain requests."""

    def __init__(self, status: int) -> None:
        self.spec = SimpleNamespace(endpoint=URL, api_name=NAME, id="http/m", public_endpoint=URL)
        self.status = status
        self.n_support, self.n_ok, self.n_max, self.n_usage, self.endpoint_lessons = None, 1, None, None, None
        self._n_probe = None
        self.sent: list[int] = []

    def _loop_state(self):
        import asyncio

        return None, asyncio.Semaphore(4)

    def _request(self, messages, temperature, max_tokens, seed, tools, sample, answer_key):
        return {"model": NAME, "messages": messages}

    async def _timed_retries(self, client, body):
        from rolegraph.models.openai_errors import ModelCallError

        self.sent.append(body["n"])
        raise ModelCallError(f"HTTP {self.status}: 'n' must be 1", status=self.status)

    async def complete(self, messages, *, sample: int = 0, **_):
        from rolegraph.chat.types import Completion

        self.sent.append(1)
        return Completion(text=f"s{sample}", model_id="http/m")


@pytest.mark.parametrize("status", [400, 422])
def test_a_refused_n_falls_back_to_plain_requests_for_either_refusal_status(status, caplog):
    import asyncio

    endpoint = Refuser(status)
    with caplog.at_level(logging.WARNING, logger=ns.__name__):
        got = asyncio.run(ns.NSamplingMixin.complete_n(endpoint, [{"role": "user", "content": "q"}], samples=[0, 1, 2]))
    assert [c.text for c in got] == ["s0", "s1", "s2"]
    assert endpoint.sent == [3, 1, 1, 1]  # one refused probe, then three plain requests
    assert (endpoint.n_max, endpoint.n_support) == (1, False)
    assert any("does not take n" in r.getMessage() for r in caplog.records)


class Short:
    """A stand-in endpoint that has answered n=3 in full before, and now returns one choice fewer than asked."""

    def __init__(self) -> None:
        from rolegraph.chat.spec import ModelSpec

        self.spec = ModelSpec(id="http/m", backend="openai", base_url=URL, model=NAME)
        self.n_support, self.n_ok, self.n_max, self.n_usage, self.endpoint_lessons = True, 3, None, None, None
        self._n_probe = None
        self.sent: list[int] = []

    def _loop_state(self):
        import asyncio

        return None, asyncio.Semaphore(4)

    def _request(self, messages, temperature, max_tokens, seed, tools, sample, answer_key):
        return {"model": NAME, "messages": messages}

    async def _timed_retries(self, client, body):
        self.sent.append(body["n"])
        choices = [
            {"index": i, "message": {"role": "assistant", "content": f"choice{i}"}, "finish_reason": "stop"}
            for i in range(body["n"] - 1)
        ]
        return {"choices": choices, "model": NAME}, 0.1

    async def complete(self, messages, *, sample: int = 0, **_):
        from rolegraph.chat.types import Completion

        self.sent.append(1)
        return Completion(text=f"plain{sample}", model_id="http/m")


def test_samples_missing_from_a_short_reply_go_as_plain_requests():
    import asyncio

    endpoint = Short()
    got = asyncio.run(ns.NSamplingMixin.complete_n(endpoint, [{"role": "user", "content": "q"}], samples=[4, 5, 6]))
    assert [c.text for c in got] == ["choice0", "choice1", "plain6"]  # one completion per sample, in order
    assert endpoint.sent == [3, 1]
