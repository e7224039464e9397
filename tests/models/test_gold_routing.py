"""Who is handed an item's gold answer is decided in one place (`chat.spec.gold_for`), and every path a call can
take into the model layer asks it: the hub (call, stream, k samples; with the response cache and without), the
response cache used alone (Ray's workers wrap a backend in it directly) and the OpenAI backend used alone.

A real model on loopback (the recording `CaptureServer`: what it holds is exactly what left the process) is
never sent the gold through any of them; a serve-sim twin (`answer_key: true`, loopback) and the in-process
sim still are. `tests/reliability/test_gold_answers.py` covers `rolegraph eval` end to end and the cache key's
function; this covers each entry point of the model layer on its own."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest

from rolegraph.chat.spec import ModelSpec, gold_for
from rolegraph.chat.types import Completion
from rolegraph.items import AnswerKey, Item
from rolegraph.models.cache import CachedChatModel, ResponseCache
from rolegraph.models.hub import ModelHub
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from tests.reliability.capture import CaptureServer

REAL_ID = "capture/real"
TWIN_ID = "capture/twin"
SIM_ID = "sim/llama-3.2-3b"
SAMPLES = [0, 1]
ENTRIES = ("hub", "hub-cached", "cache", "backend")
PATHS = ("complete", "stream", "complete_n")


def _item() -> tuple[Item, str, str]:
    """An item whose gold and question are tokens found nowhere else."""
    gold, question = f"GOLD{secrets.token_hex(6)}", f"Q{secrets.token_hex(6)}"
    return Item(id="i", question=f"What is the code word of box {question}?", gold=gold, family="qa"), gold, question


def _specs(base_url: str) -> list[ModelSpec]:
    return [
        ModelSpec(id=REAL_ID, backend="openai", base_url=base_url, model="plain", params_b=1.0),
        ModelSpec(id=TWIN_ID, backend="openai", base_url=base_url, model="twin", params_b=1.0, answer_key=True),
    ]


async def _call(model, path: str, item: Item) -> None:
    messages = [{"role": "user", "content": item.question}]
    key = item.answer_key()
    if path == "complete":
        await model.complete(messages, answer_key=key)
    elif path == "stream":
        async for _ in model.stream(messages, answer_key=key):
            pass
    else:
        await model.complete_n(messages, samples=SAMPLES, temperature=0.7, answer_key=key)


async def _through(entry: str, spec: ModelSpec, pool: ModelPool, home: Path, path: str, item: Item) -> None:
    """One call down `path` of `entry` to the model of `spec`."""
    if entry.startswith("hub"):
        hub = ModelHub(pool, Settings(home=home, cache=entry == "hub-cached"))
        try:
            await _call(hub.get(spec.id), path, item)
        finally:
            await hub.aclose()
        return
    backend = OpenAIChatModel(spec, Settings(home=home, cache=False), max_attempts=1)
    try:
        if entry == "backend":
            await _call(backend, path, item)
        else:
            with ResponseCache(home / "cache.sqlite") as cache:
                cached = CachedChatModel(backend, cache, spec)
                if path == "stream":  # the bare cache has no `stream`: its calls are `complete`s
                    await cached.complete([{"role": "user", "content": item.question}], answer_key=item.answer_key())
                else:
                    await _call(cached, path, item)
    finally:
        await backend.aclose()


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("path", PATHS)
def test_a_real_model_on_loopback_is_never_sent_the_gold(entry, path, tmp_path):
    item, gold, question = _item()
    with CaptureServer() as server:
        real = _specs(server.base_url)[0]
        pool = ModelPool(list(ModelPool.builtin()) + [real])
        asyncio.run(_through(entry, real, pool, tmp_path / "home", path, item))
        seen = server.seen()
    assert question.encode() in seen  # the call reached the server, question and all
    assert gold.encode() not in seen
    assert b"answer_key" not in seen and b'"rolegraph"' not in seen  # not even the sim's field, empty
    assert _files_holding(tmp_path / "home", gold.encode()) == []  # nor the cache's keys or rows


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("path", PATHS)
def test_a_serve_sim_twin_on_loopback_is_still_sent_the_gold(entry, path, tmp_path):
    item, gold, _ = _item()
    with CaptureServer() as server:
        twin = _specs(server.base_url)[1]
        pool = ModelPool(list(ModelPool.builtin()) + [twin])
        asyncio.run(_through(entry, twin, pool, tmp_path / "home", path, item))
        bodies = list(server.bodies)
    assert bodies and all(gold.encode() in body for body in bodies)  # every request carried it


class _Recording:
    """A model given to `hub.use()`: records the answer key each call was handed."""

    def __init__(self, model_id: str):
        self.model_id = model_id
        self.keys: list[AnswerKey | None] = []

    async def complete(self, messages, *, answer_key: AnswerKey | None = None, **kwargs) -> Completion:
        self.keys.append(answer_key)
        return Completion(text="Final answer: 7", model_id=self.model_id)


@pytest.mark.parametrize("path", PATHS)
def test_through_the_hub_the_in_process_sim_reads_the_gold_and_a_real_model_does_not(path, tmp_path):
    item, _, _ = _item()
    real = ModelSpec(id=REAL_ID, backend="openai", base_url="http://127.0.0.1:9/v1", model="plain")
    hub = ModelHub(ModelPool(list(ModelPool.builtin()) + [real]), Settings(home=tmp_path / "home", cache=False))
    sim, plain = _Recording(SIM_ID), _Recording(REAL_ID)
    hub.use(SIM_ID, sim)
    hub.use(REAL_ID, plain)
    asyncio.run(_call(hub.get(SIM_ID), path, item))
    asyncio.run(_call(hub.get(REAL_ID), path, item))
    assert sim.keys and all(k == item.answer_key() for k in sim.keys)
    assert plain.keys and all(k is None for k in plain.keys)


def test_gold_for_hands_the_key_only_where_some_reader_is_simulated():
    key = Item(id="i", question="2 + 2?", gold="4", family="math").answer_key()
    sim = ModelPool.builtin().get(SIM_ID)
    real = ModelSpec(id="r/x", backend="openai", base_url="https://api.example.com/v1")
    twin = ModelSpec(id="t/x", backend="openai", base_url="http://localhost:8000/v1", answer_key=True)
    local = ModelSpec(id="l/x", backend="local")
    assert gold_for(key, sim) is key and gold_for(key, twin) is key
    assert gold_for(key, real) is None and gold_for(key, local) is None and gold_for(key) is None
    assert gold_for(key, real, local, twin) is key  # a graph: some node reads it
    assert gold_for(None, sim) is None
