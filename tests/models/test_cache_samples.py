"""The cached model wrapper (models/cache.py `CachedChatModel`) keeps samples apart: sample i of a call is stored and
found as sample i, by `complete` and by `complete_n` alike; the inner model is asked for the very sample indices
requested; a choice of a shared `n` request on a real endpoint (a "shared draw") is replayed to a later coalesced
call but never served to a plain per-sample call; the first stored completion of a key stays; and a real model is
never handed the gold."""
from __future__ import annotations

import asyncio

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import Completion
from rolegraph.items import AnswerKey
from rolegraph.models.cache import CachedChatModel, ResponseCache
from rolegraph.models.openai_replies import note_shared_draws

REAL = ModelSpec(id="http/m", backend="openai", base_url="http://127.0.0.1:9/v1", model="m")
Q = [{"role": "user", "content": "What is 2 + 3?"}]
GOLD = AnswerKey(item_id="q1", gold="5")


class Inner:
    """Draws `draw<k>:s<sample>` (k: the inner call that drew it, from 0); `shared`: its `n` replies are shared."""

    def __init__(self, shared: bool = False) -> None:
        self.shared = shared
        self.calls: list[tuple[str, list[int], object]] = []

    def _draw(self, sample: int) -> Completion:
        return Completion(text=f"draw{len(self.calls) - 1}:s{sample}", model_id="http/m")

    async def complete(self, messages, *, sample: int = 0, answer_key=None, **_) -> Completion:
        self.calls.append(("one", [sample], answer_key))
        return self._draw(sample)

    async def complete_n(self, messages, *, samples, answer_key=None, **_) -> list[Completion]:
        self.calls.append(("n", list(samples), answer_key))
        if self.shared:
            note_shared_draws(samples)
        return [self._draw(s) for s in samples]


def wrapped(tmp_path, inner: Inner) -> CachedChatModel:
    return CachedChatModel(inner, ResponseCache(tmp_path / "cache.sqlite"), REAL)


def texts(completions) -> list[str]:
    return [c.text for c in completions]


def test_plain_calls_store_each_sample_apart_and_replay_it(tmp_path):
    inner = Inner()
    model = wrapped(tmp_path, inner)

    async def go():
        first = [await model.complete(Q, sample=s, temperature=0.7) for s in (1, 2)]
        again = [await model.complete(Q, sample=s, temperature=0.7) for s in (2, 1)]
        return first, again

    first, again = asyncio.run(go())
    assert texts(first) == ["draw0:s1", "draw1:s2"]
    assert [c[1] for c in inner.calls] == [[1], [2]]  # the inner model was asked for the samples given
    assert texts(again) == ["draw1:s2", "draw0:s1"] and all(c.cached for c in again)
    assert len(inner.calls) == 2


def test_complete_n_asks_for_the_samples_given_and_stores_each_as_its_own(tmp_path):
    inner = Inner()
    model = wrapped(tmp_path, inner)

    async def go():
        many = await model.complete_n(Q, samples=[5, 7, 9], temperature=0.7)
        one = await model.complete(Q, sample=7, temperature=0.7)
        return many, one

    many, one = asyncio.run(go())
    assert inner.calls == [("n", [5, 7, 9], None)]
    assert texts(many) == ["draw0:s5", "draw0:s7", "draw0:s9"]
    assert one.text == "draw0:s7" and one.cached  # a sample's own draw serves a plain call for it


def test_shared_draws_replay_to_coalesced_calls_but_never_to_plain_ones(tmp_path):
    inner = Inner(shared=True)
    model = wrapped(tmp_path, inner)

    async def go():
        many = await model.complete_n(Q, samples=[0, 1], temperature=0.7)
        again = await model.complete_n(Q, samples=[0, 1], temperature=0.7)
        plain = await model.complete(Q, sample=1, temperature=0.7)
        return many, again, plain

    many, again, plain = asyncio.run(go())
    assert texts(again) == texts(many) == ["draw0:s0", "draw0:s1"] and all(c.cached for c in again)
    assert plain.text == "draw1:s1" and not plain.cached  # drawn for itself, not the shared request's choice
    assert [c[0] for c in inner.calls] == ["n", "one"]


def test_the_first_completion_stored_for_a_key_stays(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.put("k", Completion(text="first", model_id="m"))
    cache.put("k", Completion(text="second", model_id="m"))
    assert cache.get("k").text == "first"


def test_a_real_model_is_never_handed_the_gold(tmp_path):
    inner = Inner()
    model = wrapped(tmp_path, inner)

    async def go():
        await model.complete(Q, sample=0, answer_key=GOLD)
        await model.complete_n(Q, samples=[1, 2], answer_key=GOLD)

    asyncio.run(go())
    assert [c[2] for c in inner.calls] == [None, None]


class Gated(Inner):
    """`Inner` whose calls wait for `open` (set by the test) before they answer: calls in flight together."""

    def __init__(self, shared: bool = False) -> None:
        super().__init__(shared)
        self.open = asyncio.Event()

    async def complete(self, messages, **kwargs) -> Completion:
        out = await super().complete(messages, **kwargs)
        await self.open.wait()
        return out

    async def complete_n(self, messages, **kwargs) -> list[Completion]:
        out = await super().complete_n(messages, **kwargs)
        await self.open.wait()
        return out


def test_a_sample_in_flight_in_a_plain_call_is_awaited_by_complete_n_not_asked_again(tmp_path):
    inner = Gated()
    model = wrapped(tmp_path, inner)

    async def go():
        plain = asyncio.create_task(model.complete(Q, sample=1, temperature=0.7))
        await asyncio.sleep(0)  # the plain call is in flight
        many = asyncio.create_task(model.complete_n(Q, samples=[1, 2], temperature=0.7))
        for _ in range(5):
            await asyncio.sleep(0)
        inner.open.set()
        return await plain, await many

    plain, many = asyncio.run(go())
    assert [c[:2] for c in inner.calls] == [("one", [1]), ("one", [2])]  # sample 1 paid once
    assert texts(many) == [plain.text, "draw1:s2"]


def test_a_plain_call_never_waits_for_a_shared_draw_in_flight(tmp_path):
    inner = Gated(shared=True)
    model = wrapped(tmp_path, inner)

    async def go():
        many = asyncio.create_task(model.complete_n(Q, samples=[0, 1], temperature=0.7))
        await asyncio.sleep(0)  # the shared request is in flight
        plain = asyncio.create_task(model.complete(Q, sample=1, temperature=0.7))
        for _ in range(5):
            await asyncio.sleep(0)
        inner.open.set()
        return await many, await plain

    many, plain = asyncio.run(go())
    assert texts(many) == ["draw0:s0", "draw0:s1"]
    assert plain.text == "draw1:s1"  # its own draw, not the shared request's choice
