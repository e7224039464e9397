"""The response cache: a search must never pay for the same call twice, even after a restart.

SQLite in WAL mode with a busy timeout, so threads and several processes can read and write one
file at once. The key is the full identity of a call (model, endpoint, messages, tools, sampling
parameters, sample index, and for simulated models the answer key): n samples at temperature > 0 are n
entries, not one replayed. A real model's key never holds the gold (its answer cannot depend on it).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from rolegraph import sqlite_io
from rolegraph.chat.spec import ModelSpec, gold_for
from rolegraph.chat.types import DEFAULT_CALL_MAX_TOKENS, ChatModel, Completion, Message
from rolegraph.errors import StateFileError
from rolegraph.items import AnswerKey
from rolegraph.models.in_flight import Unsent
from rolegraph.models.multi import complete_many
from rolegraph.models.openai_replies import SHARED_DRAWS, SharedDraws
from rolegraph.sim.fingerprint import sim_fingerprint

KEY_VERSION = 1  # bump when the key's layout or the meaning of a stored completion changes
# Fields added to `Completion` later load with their defaults from older rows (finish_reason: "stop").
SIM_IDENTITY_FIELDS = ("params_b", "layers", "hidden", "sim_accuracy", "world")  # what changes a sim model's answers

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model_id TEXT NOT NULL,
    completion TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def cache_key(
    spec: ModelSpec,
    messages: list[Message],
    *,
    temperature: float,
    max_tokens: int,
    seed: int,
    tools: list[dict] | None,
    sample: int,
    answer_key: AnswerKey | None,
    response_format: dict | None = None,
) -> str:
    """sha256 of the canonical JSON of everything that determines a call's answer. `response_format`
    joins the key only when set, so every key made before it existed still finds its row."""
    gold = gold_for(answer_key, spec)  # a simulated model's answer depends on the key; a real model's never does
    identity: dict[str, Any] = {
        "v": KEY_VERSION,
        "model": spec.id,
        "name": spec.api_name,
        "endpoint": spec.base_url or spec.backend,
        "messages": messages,
        "tools": tools or None,
        "temperature": float(temperature),
        "max_tokens": int(max_tokens),
        "seed": int(seed),
        "sample": int(sample),
        "answer_key": gold.model_dump() if gold is not None else None,
    }
    if spec.logprobs:  # only then: keys of specs without it stay as they were
        identity["logprobs"] = True
    if response_format is not None:
        identity["response_format"] = response_format
    if spec.backend == "sim":
        # the simulator's code decides its answers too: a changed sim must not replay old completions
        identity["sim"] = {f: getattr(spec, f) for f in SIM_IDENTITY_FIELDS} | {"fingerprint": sim_fingerprint()}
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class CacheStore(Protocol):
    """What `CachedChatModel` needs of a cache: `ResponseCache` here, or a remote one (Ray's cache actor)."""

    def get(self, key: str) -> Completion | None: ...

    def put(self, key: str, completion: Completion) -> None: ...


@runtime_checkable
class SharedFlight(Protocol):
    """A cache shared by processes that also coordinates their calls in flight (Ray's cache actor): `claim`
    gives None when this process is to make the call (its `put` or `release` ends the claim), or the answer
    another process stored while this one waited."""

    async def claim(self, key: str) -> Completion | None: ...

    def release(self, key: str) -> None: ...


class ResponseCache:
    """Completions by key in one SQLite file. One connection per instance, guarded by a lock for threads;
    other processes coordinate through SQLite's own locking (WAL + busy timeout)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn: sqlite3.Connection | None = sqlite_io.connect(
                self.path, synchronous="NORMAL", check_same_thread=False
            )
            self._conn.execute(_SCHEMA)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise StateFileError(f"{self.path}: cannot open the response cache ({exc})") from None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"response cache {self.path} is closed")
        return self._conn

    def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._db().execute("SELECT completion FROM responses WHERE key = ?", (key,)).fetchone()
        return Completion.model_validate_json(row[0]) if row else None

    def put(self, key: str, completion: Completion) -> None:
        """Store the first completion for a key; a concurrent duplicate keeps the original."""
        data = completion.model_copy(update={"cached": False}).model_dump_json()
        with self._lock:
            self._db().execute(
                "INSERT OR IGNORE INTO responses (key, model_id, completion, created) VALUES (?, ?, ?, ?)",
                (key, completion.model_id, data, time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._db().execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class CachedChatModel:
    """Wraps a `ChatModel`: a hit returns the stored completion marked `cached=True` (with the latency
    originally measured); a miss calls the inner model and stores the result. Failures are not stored.

    Identical calls in flight at the same time are paid once: the later ones wait for the first and
    get its answer as a cache hit (single flight), so two graphs sharing a node never pay twice. Across
    processes (Ray's workers) a `SharedFlight` cache does the same: the first process claims the call."""

    def __init__(self, inner: ChatModel, cache: CacheStore, spec: ModelSpec):
        self._inner = inner
        self._cache = cache
        self.spec = spec
        self._inflight: dict[str, asyncio.Future] = {}

    @property
    def model_id(self) -> str:
        return self.spec.id

    async def complete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int = DEFAULT_CALL_MAX_TOKENS,
        seed: int = 0,
        tools: list[dict] | None = None,
        sample: int = 0,
        answer_key: AnswerKey | None = None,
        response_format: dict | None = None,
    ) -> Completion:
        answer_key = gold_for(answer_key, self.spec)  # a real model is never handed the gold
        key = cache_key(
            self.spec,
            messages,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            tools=tools,
            sample=sample,
            answer_key=answer_key,
            response_format=response_format,
        )
        hit = self._cache.get(key)
        if hit is not None:
            return hit.model_copy(update={"cached": True})
        loop = asyncio.get_running_loop()
        pending = self._inflight.get(key)
        if pending is not None and pending.get_loop() is loop:
            try:
                out = await asyncio.shield(pending)
                return out.model_copy(update={"cached": True})
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this waiter was cancelled; the first call goes on
                # the first caller was cancelled: make the call ourselves
        future = self._inflight[key] = loop.create_future()
        extra = {"response_format": response_format} if response_format is not None else {}
        shared = self._cache if isinstance(self._cache, SharedFlight) else None
        claimed = False
        try:
            if shared is not None:
                elsewhere = await shared.claim(key)  # another process's call in flight: wait for its answer
                if elsewhere is not None:
                    future.set_result(elsewhere)
                    return elsewhere.model_copy(update={"cached": True})
                claimed = True
            out = await self._inner.complete(
                messages,
                temperature=temperature,
                max_tokens=max_tokens,
                seed=seed,
                tools=tools,
                sample=sample,
                answer_key=answer_key,
                **extra,
            )
            self._cache.put(key, out)  # a shared cache's put also ends the claim
            claimed = False
            future.set_result(out)
            return out
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            if claimed and shared is not None:  # failed or cancelled: another process may make the call
                shared.release(key)
            if self._inflight.get(key) is future:
                del self._inflight[key]

    async def complete_n(
        self,
        messages: list[Message],
        *,
        samples: Sequence[int],
        temperature: float = 0.0,
        max_tokens: int = DEFAULT_CALL_MAX_TOKENS,
        seed: int = 0,
        answer_key: AnswerKey | None = None,
    ) -> list[Completion]:
        """One completion per sample. A sample's own draw (made by a request for it alone, or by serve-sim, which
        draws choice i of an `n` request exactly as a request for sample i) is stored under the key `complete` uses;
        a choice of an `n` request on any other endpoint is a different draw (`SharedDraws`) and is stored under
        its `shared_draw_key`, which `complete` never reads. Hits come from either key (a sample's own draw is a
        fine answer for a coalesced run), samples in flight are awaited, and the rest go to the inner model in one
        `complete_many`. So a coalesced run replays its draws, and an uncoalesced run (`--no-coalesce`) is never
        served samples it did not draw: on a real endpoint it makes its own calls. A stop part-way (`Unsent`, a split
        call's queued parts never sent) stores the samples that were sent, each under its own key, before passing the
        stop on: a resume sends only the rest."""
        answer_key = gold_for(answer_key, self.spec)  # as in `complete`: a real model is never handed the gold
        keys = [
            cache_key(
                self.spec,
                messages,
                temperature=temperature,
                max_tokens=max_tokens,
                seed=seed,
                tools=None,
                sample=s,
                answer_key=answer_key,
            )
            for s in samples
        ]
        shared = [shared_draw_key(key) for key in keys]
        out: list[Completion | None] = [None] * len(samples)
        loop = asyncio.get_running_loop()
        waits: dict[int, asyncio.Future] = {}
        misses: list[int] = []
        for i, key in enumerate(keys):
            hit = self._cache.get(key)
            hit = self._cache.get(shared[i]) if hit is None else hit
            if hit is not None:
                out[i] = hit.model_copy(update={"cached": True})
                continue
            pending = self._inflight.get(key) or self._inflight.get(shared[i])
            if pending is not None and pending.get_loop() is loop:
                waits[i] = pending
            else:
                misses.append(i)
        # in flight under the key its answer may be stored under: a plain call must not wait for a shared draw
        flight = keys if self.spec.answer_key else shared
        mine: dict[int, asyncio.Future] = {}
        for i in misses:
            if flight[i] not in self._inflight:
                mine[i] = self._inflight[flight[i]] = loop.create_future()
        drawn = SharedDraws()

        def keep(i: int, comp: Completion) -> None:
            self._cache.put(shared[i] if samples[i] in drawn.samples else keys[i], comp)
            out[i] = comp
            if i in mine:
                mine[i].set_result(comp)

        try:
            if misses:
                token = SHARED_DRAWS.set(drawn)
                try:
                    fresh = await complete_many(
                        self._inner,
                        messages,
                        samples=[samples[i] for i in misses],
                        temperature=temperature,
                        max_tokens=max_tokens,
                        seed=seed,
                        answer_key=answer_key,
                    )
                except Unsent as stop:  # the samples sent before the stop were billed: kept, one entry each
                    for i in misses:
                        if samples[i] in stop.done:
                            keep(i, stop.done[samples[i]])
                    raise
                finally:
                    SHARED_DRAWS.reset(token)
                for i, comp in zip(misses, fresh):
                    keep(i, comp)
        except asyncio.CancelledError:
            for fut in mine.values():
                if not fut.done():
                    fut.cancel()
            raise
        except BaseException as exc:
            for fut in mine.values():
                if not fut.done():
                    fut.set_exception(exc)
                    fut.exception()
            raise
        finally:
            for i, fut in mine.items():
                if self._inflight.get(flight[i]) is fut:
                    del self._inflight[flight[i]]
        for i, fut in waits.items():
            got = await asyncio.shield(fut)
            out[i] = got.model_copy(update={"cached": True})
        return [c for c in out if c is not None]


def shared_draw_key(key: str) -> str:
    """Where a shared draw for the call with `key` is stored (see `CachedChatModel.complete_n`): derived from the
    per-sample key, so the call's identity is the same, and apart from it, so `complete` never reads it."""
    return hashlib.sha256(f"shared-draw:{key}".encode()).hexdigest()
