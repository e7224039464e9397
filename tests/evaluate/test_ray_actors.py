"""The Ray cache actor's single flight across processes, without Ray: two `CachedChatModel`s (two workers, each
with its own in-process single flight) over one `CacheServer` pay a call in flight once; a failed or abandoned
claim lets the other make the call. (Through Ray itself: tests/evaluate/test_executors.py.)"""
from __future__ import annotations

import asyncio

from rolegraph.chat.types import Completion
from rolegraph.evaluate import ray_actors
from rolegraph.evaluate.ray_actors import CacheServer
from rolegraph.models.cache import CachedChatModel, SharedFlight
from rolegraph.models.pool import ModelPool

MODEL = "sim/llama-3.2-1b"
MESSAGES = [{"role": "user", "content": "the same question"}]


class _Slow:
    """A model that takes a moment, counts its calls and can fail."""

    def __init__(self, fail: bool = False):
        self.calls, self.fail = 0, fail

    @property
    def model_id(self) -> str:
        return MODEL

    async def complete(self, messages, **kw):
        self.calls += 1
        await asyncio.sleep(0.05)
        if self.fail:
            raise RuntimeError("endpoint down")
        return Completion(text=f"answer {self.calls}", model_id=MODEL)


def _worker(inner, server: CacheServer) -> CachedChatModel:
    return CachedChatModel(inner, server, ModelPool.builtin().get(MODEL))


def test_two_workers_needing_the_same_call_at_once_pay_it_once(tmp_path):
    server = CacheServer(str(tmp_path / "cache.sqlite"))
    assert isinstance(server, SharedFlight)
    a, b = _Slow(), _Slow()

    async def main():
        return await asyncio.gather(_worker(a, server).complete(MESSAGES), _worker(b, server).complete(MESSAGES),
                                    _worker(b, server).complete(MESSAGES, seed=2))

    first, second, other = asyncio.run(main())
    assert a.calls + b.calls == 2  # the shared call once, the other seed's once
    assert first.text == second.text and sorted([first.cached, second.cached]) == [False, True]
    assert not other.cached and server.size() == 2 and not server._claims


def test_a_failed_call_lets_the_waiting_worker_make_it(tmp_path):
    server = CacheServer(str(tmp_path / "cache.sqlite"))
    down, up = _Slow(fail=True), _Slow()

    async def main():
        failing = asyncio.create_task(_worker(down, server).complete(MESSAGES))
        await asyncio.sleep(0.01)  # the failing worker claims first
        waiting = asyncio.create_task(_worker(up, server).complete(MESSAGES))
        return await asyncio.gather(failing, waiting, return_exceptions=True)

    failed, answered = asyncio.run(main())
    assert isinstance(failed, RuntimeError) and isinstance(answered, Completion) and not answered.cached
    assert (down.calls, up.calls) == (1, 1) and server.size() == 1 and not server._claims


def test_a_claim_whose_owner_is_gone_is_taken_over(tmp_path, monkeypatch):
    monkeypatch.setattr(ray_actors, "CLAIM_WAIT_S", 0.05)
    server = CacheServer(str(tmp_path / "cache.sqlite"))

    async def main():
        mine = await server.claim("k")  # and never put nor released: a worker that died
        theirs = await server.claim("k")
        return mine, theirs, "k" in server._claims

    assert asyncio.run(main()) == (None, None, True)  # the second caller now holds the claim
    server.put("k", Completion(text="x", model_id=MODEL))
    assert asyncio.run(server.claim("k")).text == "x" and not server._claims
