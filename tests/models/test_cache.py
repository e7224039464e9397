"""The SQLite response cache: key identity, persistence, concurrent writers, and the cached model wrapper."""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest

from rolegraph.items import AnswerKey
from rolegraph.models.cache import CachedChatModel, ResponseCache, cache_key
from rolegraph.models.hub import ModelHub
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.models.pool import ModelPool
from rolegraph.chat.types import Completion, ToolCall, Usage

from tests.models.conftest import HTTP_ID, SIM_ID, http_spec, task_calls

WRITERS = 4
ROWS_PER_WRITER = 150


def _completion(i: int, model_id: str = "m/x") -> Completion:
    return Completion(text=f"answer {i}", usage=Usage(input_tokens=i, output_tokens=2 * i), latency_s=0.25 + i,
                      model_id=model_id, cost_usd=i / 1e6,
                      tool_calls=[ToolCall(id=f"c{i}", name="search", arguments='{"q": 1}')])


def _key_args(**overrides) -> dict:
    messages, key = task_calls(1)[0]
    args = dict(messages=messages, temperature=0.7, max_tokens=128, seed=1, tools=None, sample=0, answer_key=key)
    args.update(overrides)
    return args


def test_key_is_stable_and_covers_every_part():
    spec = ModelPool.builtin().get(SIM_ID)
    base = cache_key(spec, **_key_args())
    reordered = [dict(reversed(list(m.items()))) for m in _key_args()["messages"]]
    assert cache_key(spec, **_key_args(messages=reordered)) == base  # canonical JSON: key order is irrelevant
    variants = {
        "model": cache_key(ModelPool.builtin().get("sim/llama-3.2-1b"), **_key_args()),
        "endpoint": cache_key(spec.model_copy(update={"base_url": "http://h:1/v1"}), **_key_args()),
        "messages": cache_key(spec, **_key_args(messages=task_calls(2)[1][0])),
        "tools": cache_key(spec, **_key_args(tools=[{"name": "search"}])),
        "temperature": cache_key(spec, **_key_args(temperature=0.8)),
        "max_tokens": cache_key(spec, **_key_args(max_tokens=129)),
        "seed": cache_key(spec, **_key_args(seed=2)),
        "sample": cache_key(spec, **_key_args(sample=1)),
        "answer_key": cache_key(spec, **_key_args(answer_key=AnswerKey(item_id="other", gold="1"))),
        "no_answer_key": cache_key(spec, **_key_args(answer_key=None)),
        "response_format": cache_key(spec, **_key_args(response_format={"type": "json_object"})),
        "other_response_format": cache_key(spec, **_key_args(response_format={"type": "json_schema"})),
    }
    assert base not in variants.values()
    assert len(set(variants.values())) == len(variants)


def test_response_format_joins_the_key_only_when_set():
    """Keys written before `response_format` existed still match calls that do not set it."""
    spec = ModelPool.builtin().get(SIM_ID)
    assert cache_key(spec, **_key_args(response_format=None)) == cache_key(spec, **_key_args())


def test_roundtrip_persistence_and_wal(tmp_path: Path):
    path = tmp_path / "c" / "cache.sqlite"
    with ResponseCache(path) as cache:
        assert cache.get("k1") is None and len(cache) == 0
        cache.put("k1", _completion(1))
        cache.put("k1", _completion(2))  # a duplicate keeps the first
        assert len(cache) == 1
    with ResponseCache(path) as again:
        got = again.get("k1")
        assert got == _completion(1) and not got.cached
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode.lower() == "wal"


def _write_rows(path: str, writer: int, rows: int) -> None:
    cache = ResponseCache(Path(path))
    for i in range(rows):
        cache.put(f"w{writer}-{i}", _completion(i, model_id=f"m/{writer}"))
        cache.get(f"w{(writer + 1) % WRITERS}-{i}")  # interleave reads with the other writers' inserts
    cache.close()


def test_concurrent_writer_processes_lose_no_rows(tmp_path: Path):
    path = tmp_path / "cache.sqlite"
    # no pre-created file: the writers also race to create the schema and switch the file to WAL
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    procs = [ctx.Process(target=_write_rows, args=(str(path), w, ROWS_PER_WRITER)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    with ResponseCache(path) as cache:
        assert len(cache) == WRITERS * ROWS_PER_WRITER
        assert cache.get(f"w{WRITERS - 1}-{ROWS_PER_WRITER - 1}").model_id == f"m/{WRITERS - 1}"


def test_concurrent_writer_threads_share_one_cache(tmp_path: Path):
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        def write(writer: int) -> None:
            for i in range(ROWS_PER_WRITER):
                cache.put(f"t{writer}-{i}", _completion(i))
                assert cache.get(f"t{writer}-{i}") is not None

        threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(cache) == WRITERS * ROWS_PER_WRITER


def test_repeated_call_is_served_from_the_cache_not_the_server(server, settings):
    spec = http_spec(server.base_url)
    (messages, key), (other_messages, other_key) = task_calls(2)

    async def go():
        with ResponseCache(settings.cache_path) as cache:
            model = CachedChatModel(OpenAIChatModel(spec, settings), cache, spec)
            first = await model.complete(messages, seed=3, answer_key=key)
            again = await model.complete(messages, seed=3, answer_key=key)
            sample2 = await model.complete(messages, temperature=0.9, seed=3, sample=1, answer_key=key)
            other = await model.complete(other_messages, seed=3, answer_key=other_key)
            await model._inner.aclose()
            return first, again, sample2, other

    first, again, sample2, other = asyncio.run(go())
    assert not first.cached and again.cached
    assert again.model_copy(update={"cached": False}) == first  # text, usage, cost and original latency
    assert not sample2.cached and not other.cached
    assert server.app.state.stats.requests == 3  # the repeat never reached the server


def test_failures_are_not_cached(server, settings):
    spec = http_spec(server.base_url, model="sim/llama-9b")  # 404 from the server
    messages, key = task_calls(1)[0]

    async def go():
        with ResponseCache(settings.cache_path) as cache:
            model = CachedChatModel(OpenAIChatModel(spec, settings), cache, spec)
            for _ in range(2):
                with pytest.raises(Exception, match="404"):
                    await model.complete(messages, answer_key=key)
            return len(cache)

    assert asyncio.run(go()) == 0
    assert server.app.state.stats.requests == 2


@pytest.mark.parametrize("use_cache", [True, False])
def test_hub_caches_unless_turned_off(server, settings, use_cache):
    from dataclasses import replace

    settings = replace(settings, cache=use_cache)
    pool = ModelPool(list(ModelPool.builtin()) + [http_spec(server.base_url)])
    messages, key = task_calls(1)[0]

    async def go():
        hub = ModelHub(pool, settings)
        outs = [await hub.get(HTTP_ID).complete(messages, seed=4, answer_key=key) for _ in range(3)]
        stats = hub.stats
        await hub.aclose()
        return outs, stats

    outs, stats = asyncio.run(go())
    assert len({o.text for o in outs}) == 1
    assert [o.cached for o in outs] == ([False, True, True] if use_cache else [False, False, False])
    assert stats.paid == server.app.state.stats.requests == (1 if use_cache else 3)
    assert settings.cache_path.exists() == use_cache


class _SlowCounting:
    """A ChatModel that takes a moment and counts its calls (stands in for a paid endpoint)."""

    def __init__(self, fail: bool = False):
        self.calls = 0
        self.fail = fail

    @property
    def model_id(self) -> str:
        return "sim/llama-3.2-1b"

    async def complete(self, messages, **kw):
        import asyncio as _asyncio

        from rolegraph.chat.types import Completion as _Completion

        self.calls += 1
        await _asyncio.sleep(0.05)
        if self.fail:
            raise RuntimeError("endpoint down")
        return _Completion(text=f"answer {self.calls}", model_id="sim/llama-3.2-1b")


def _cached(inner, tmp_path):
    """A CachedChatModel over `inner` with a fresh cache file, and that cache."""
    from rolegraph.models.cache import CachedChatModel, ResponseCache
    from rolegraph.models.pool import ModelPool

    cache = ResponseCache(tmp_path / "c.sqlite")
    return CachedChatModel(inner, cache, ModelPool.builtin().get("sim/llama-3.2-1b")), cache


def test_identical_calls_in_flight_together_are_paid_once(tmp_path):
    import asyncio as _asyncio

    inner = _SlowCounting()
    model, cache = _cached(inner, tmp_path)
    msgs = [{"role": "user", "content": "same question"}]

    async def main():
        return await _asyncio.gather(*(model.complete(msgs, seed=1) for _ in range(5)),
                                     model.complete(msgs, seed=2))

    outs = _asyncio.run(main())
    assert inner.calls == 2  # one per distinct call, not one per caller
    assert len({o.text for o in outs[:5]}) == 1 and [o.cached for o in outs[:5]].count(False) == 1
    cache.close()


def test_a_failed_call_in_flight_fails_its_waiters_and_is_not_stored(tmp_path):
    import asyncio as _asyncio

    inner = _SlowCounting(fail=True)
    model, cache = _cached(inner, tmp_path)
    msgs = [{"role": "user", "content": "q"}]

    async def main():
        return await _asyncio.gather(*(model.complete(msgs) for _ in range(3)), return_exceptions=True)

    outs = _asyncio.run(main())
    assert inner.calls == 1 and all(isinstance(o, RuntimeError) for o in outs)
    assert len(cache) == 0
    cache.close()


def test_waiters_make_the_call_themselves_when_the_first_caller_is_cancelled(tmp_path):
    import asyncio as _asyncio

    inner = _SlowCounting()
    model, cache = _cached(inner, tmp_path)
    msgs = [{"role": "user", "content": "q"}]

    async def main():
        first = _asyncio.create_task(model.complete(msgs))
        await _asyncio.sleep(0.01)
        second = _asyncio.create_task(model.complete(msgs))
        await _asyncio.sleep(0.01)
        first.cancel()
        return await second

    out = _asyncio.run(main())
    assert out.text and inner.calls == 2 and len(cache) == 1
    cache.close()


def test_finish_reason_round_trips_and_old_rows_load_as_stop(tmp_path: Path):
    path = tmp_path / "cache.sqlite"
    cut = _completion(3).model_copy(update={"finish_reason": "length"})
    with ResponseCache(path) as cache:
        cache.put("cut", cut)
        cache.put("whole", _completion(4))
    old = _completion(5).model_dump(mode="json")
    old.pop("finish_reason")  # a row written before the field existed
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO responses (key, model_id, completion, created) VALUES (?, ?, ?, ?)",
                     ("old", old["model_id"], json.dumps(old), 0.0))
    with ResponseCache(path) as again:
        got = again.get("cut")
        assert got == cut and got.finish_reason == "length" and got.truncated
        assert again.get("whole").finish_reason == "stop"
        legacy = again.get("old")
        assert legacy.finish_reason == "stop" and legacy.text == old["text"] and not legacy.truncated


def test_a_cut_reply_served_from_the_cache_is_still_cut(server, settings):
    spec = http_spec(server.base_url)
    messages, key = task_calls(1)[0]
    with ResponseCache(settings.home / "cache.sqlite") as cache:
        inner = OpenAIChatModel(spec, settings)
        model = CachedChatModel(inner, cache, spec)

        async def twice():
            first = await model.complete(messages, max_tokens=4, answer_key=key)
            second = await model.complete(messages, max_tokens=4, answer_key=key)
            await inner.aclose()
            return first, second

        first, second = asyncio.run(twice())
    assert first.finish_reason == second.finish_reason == "length"
    assert not first.cached and second.cached and second.text == first.text
