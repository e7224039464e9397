"""k samples of one call (`complete_many`, `complete_n`) against real loopback servers: serve-sim with `n`, a
server that refuses `n` with 400 the way llama.cpp's does, one that silently returns a single choice the way
llama-cpp-python's does, and llama.cpp's own server with SmolLM2. Answers equal k separate calls; the
prompt travels once where the endpoint takes `n`; every sample has its own cache entry."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.models.cache import CachedChatModel, ResponseCache
from rolegraph.models.hub import ModelHub
from rolegraph.models.multi import complete_many
from rolegraph.models.openai_backend import ModelCallError, OpenAIChatModel, mean_logprob, split_total
from rolegraph.models.pool import ModelPool
from rolegraph.chat.spec import ModelSpec
from rolegraph.sim.server import ServerThread

from tests.models.conftest import http_spec, task_calls
from tests.models.fake_servers import NoNServer as _NoN

FAST = {"timeout_s": 5.0, "backoff_base_s": 0.001, "backoff_cap_s": 0.01}
SAMPLES = [11, 22, 33, 44, 55]
SAMPLING = {"temperature": 0.7, "max_tokens": 256, "seed": 3}


def run(coro):
    return asyncio.run(coro)


async def _many_then_single(model, messages, key):
    many = await complete_many(model, messages, samples=SAMPLES, answer_key=key, **SAMPLING)
    singles = [await model.complete(messages, sample=s, answer_key=key, **SAMPLING) for s in SAMPLES]
    await model.aclose()
    return many, singles


def test_n_request_equals_separate_calls_and_carries_the_prompt_once(serve, settings):
    server = serve()
    stats = server.app.state.stats
    messages, key = task_calls(1)[0]
    model = OpenAIChatModel(http_spec(server.base_url), settings, **FAST)
    many, singles = run(_many_then_single(model, messages, key))
    assert stats.requests == 1 + len(SAMPLES)  # one n=5 request, then five plain ones
    assert model.n_support is True
    assert [c.text for c in many] == [c.text for c in singles]
    assert len({c.text for c in many}) > 1  # the samples really differ (temperature 0.7)
    prompt = singles[0].usage.input_tokens
    assert sum(c.usage.input_tokens for c in many) == prompt  # billed once, shared out
    assert [c.usage.output_tokens for c in many] == [c.usage.output_tokens for c in singles]
    assert sum(c.cost_usd for c in many) < sum(c.cost_usd for c in singles)


@pytest.mark.parametrize("mode", ["refuse", "one"])
def test_endpoint_without_n_is_detected_once_and_served_by_k_requests(settings, mode, caplog):
    fake = _NoN(mode)
    with ServerThread(fake.app) as srv:
        spec = ModelSpec(id="rec/m", backend="openai", base_url=srv.base_url, model="m")
        model = OpenAIChatModel(spec, settings, **FAST)
        messages = [{"role": "user", "content": "q"}]

        async def twice():
            first = await model.complete_n(messages, samples=[1, 2, 3])
            second = await model.complete_n(messages, samples=[4, 5, 6])
            await model.aclose()
            return first, second

        first, second = run(twice())
    assert model.n_support is False
    said = [r.getMessage() for r in caplog.records if "does not take n" in r.getMessage()]
    assert len(said) == 1 and "rec/m" in said[0]  # the fallback is reported, once
    assert len(first) == len(second) == 3
    with_n = [b for b in fake.bodies if b.get("n", 1) > 1]
    assert len(with_n) == 1  # detected on the first call only
    # refuse: 1 refused + 3 plain, then 3 plain; one: the single choice is used, 2 more, then 3 plain
    assert len(fake.bodies) == (1 + 3 + 3 if mode == "refuse" else 1 + 2 + 3)
    assert all(c.usage.input_tokens > 0 and c.text.startswith("reply") for c in first + second)


def test_other_errors_are_not_mistaken_for_a_missing_n(serve, settings):
    server = serve()
    spec = http_spec(server.base_url, model="no-such-model")
    model = OpenAIChatModel(spec, settings, **FAST)
    messages, key = task_calls(1)[0]
    with pytest.raises(ModelCallError, match="404"):
        run(model.complete_n(messages, samples=[1, 2], answer_key=key))
    assert model.n_support is None


def test_cached_samples_have_the_keys_of_single_calls(serve, settings):
    server = serve()
    stats = server.app.state.stats
    spec = http_spec(server.base_url)
    messages, key = task_calls(1)[0]

    async def go():
        cache = ResponseCache(settings.cache_path)
        model = CachedChatModel(OpenAIChatModel(spec, settings, **FAST), cache, spec)
        warm = await model.complete(messages, sample=SAMPLES[1], answer_key=key, **SAMPLING)
        many = await model.complete_n(messages, samples=SAMPLES, answer_key=key, **SAMPLING)
        again = [await model.complete(messages, sample=s, answer_key=key, **SAMPLING) for s in SAMPLES]
        cache.close()
        return warm, many, again

    warm, many, again = run(go())
    assert stats.requests == 2  # the warm single call, then one n=4 request for the four misses
    assert many[1].cached and many[1].text == warm.text
    assert not any(c.cached for i, c in enumerate(many) if i != 1)
    assert all(c.cached for c in again) and [c.text for c in again] == [c.text for c in many]


def test_hub_counts_k_calls_and_in_process_models_fall_back_to_k_calls(settings):
    hub = ModelHub(ModelPool.builtin(), settings.__class__(home=settings.home, cache=False))
    messages, key = task_calls(1)[0]

    async def go():
        model = hub.get("sim/llama-3.2-3b")
        many = await model.complete_n(messages, samples=SAMPLES, answer_key=key, **SAMPLING)
        singles = [await model.complete(messages, sample=s, answer_key=key, **SAMPLING) for s in SAMPLES]
        return many, singles

    many, singles = run(go())
    assert hub.stats.calls == 2 * len(SAMPLES)
    spec = ModelPool.builtin().get("sim/llama-3.2-3b")
    paid_once = sum(spec.cost(c.usage.input_tokens, c.usage.output_tokens) for c in singles)
    assert paid_once > 0
    assert hub.stats.paid_usd == pytest.approx(2 * paid_once)  # the k samples are paid like k calls
    assert [c.model_dump() for c in many] == [c.model_dump() for c in singles]  # no sharing in-process


def test_split_total_and_mean_logprob():
    assert split_total(10, [1, 1, 1]) == [4, 3, 3]
    assert split_total(9, [2, 1]) == [6, 3]
    assert split_total(None, [5, 2]) == [5, 2]
    assert split_total(3, [0, 0]) == [2, 1]
    assert mean_logprob({"content": [{"logprob": -1.0}, {"logprob": -2.0}]}) == pytest.approx(-1.5)
    assert mean_logprob(None) is None and mean_logprob({"content": []}) is None


def test_logprobs_are_requested_only_when_the_spec_asks(settings):
    fake = _NoN("one")
    with ServerThread(fake.app) as srv:
        plain = OpenAIChatModel(ModelSpec(id="rec/a", backend="openai", base_url=srv.base_url), settings, **FAST)
        asked = OpenAIChatModel(ModelSpec(id="rec/b", backend="openai", base_url=srv.base_url, logprobs=True),
                                settings, **FAST)
        messages = [{"role": "user", "content": "q"}]
        a = run(plain.complete(messages))
        b = run(asked.complete(messages))
    assert "logprobs" not in fake.bodies[0] and fake.bodies[1]["logprobs"] is True
    assert b.logprob == pytest.approx(-1.0)  # the server sends them either way; they are read either way
    assert a.logprob == pytest.approx(-1.0)


def test_llamacpp_refuses_n_and_returns_logprobs(llamacpp, settings):
    """The real server: `n=2` is refused (HTTP 400), so k plain requests answer; logprobs come back."""
    spec = llamacpp.spec(logprobs=True)
    model = OpenAIChatModel(spec, settings, timeout_s=120.0, **{k: v for k, v in FAST.items() if k != "timeout_s"})
    messages = [{"role": "user", "content": "Say one word."}]
    outs = run(model.complete_n(messages, samples=[1, 2], temperature=0.7, max_tokens=8, seed=1))
    assert model.n_support is False
    assert len(outs) == 2 and all(o.usage.output_tokens > 0 for o in outs)
    assert all(o.logprob is not None and o.logprob <= 0.0 for o in outs)


def test_k_plain_requests_carry_distinct_seeds_on_a_real_server(settings):
    """A seeded server answers identical requests identically: each sample gets its own seed (sample 0 the run's),
    so the k fallback requests of a vote are k samples, not one sample k times."""
    fake = _NoN("refuse")
    with ServerThread(fake.app) as srv:
        model = OpenAIChatModel(ModelSpec(id="rec/m", backend="openai", base_url=srv.base_url), settings, **FAST)
        run(model.complete_n([{"role": "user", "content": "q"}], samples=[0, 7, 8], seed=5))
    plain = [b["seed"] for b in fake.bodies if b.get("n", 1) == 1]
    assert plain[0] == 5 and len(set(plain)) == 3
