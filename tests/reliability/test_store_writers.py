"""Several processes write one ResultsStore and one ResponseCache while others read, and some writers
and a reader are SIGKILLed mid-stream: no committed row is lost, no run is stored in part, both files
pass SQLite's integrity check, and the next writer carries on.

(tests/evaluate/test_store.py and tests/models/test_cache.py cover clean concurrent writers.)
"""
from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import sqlite3
import time
from pathlib import Path

from rolegraph.evaluate.aggregate import summarize
from rolegraph.evaluate.result import ItemScore, NodeUsage
from rolegraph.evaluate.store import ResultsStore
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.cache import ResponseCache
from rolegraph.chat.types import Completion, Usage

WRITERS = 4
KILLED_WRITERS = 2
READERS = 2
SAVES = 40
VICTIM_SAVES = SAVES * 25
"""What a writer chosen to be killed plans to save: far more than it can before the kill, so it is cut short
however fast the machine (with SAVES it could finish first on fast cores)."""
ITEMS = 12
SEED = 11
JOIN_TIMEOUT_S = 120.0
SPEC = GraphSpec(name="pair", nodes=[NodeSpec(id="a", role="solver", model="sim/llama-3.2-1b"),
                                     NodeSpec(id="f", role="fuser", model="sim/llama-3.2-3b")], edges=[("a", "f")])


def _result(writer: int, i: int):
    items = [ItemScore(item_id=f"w{writer}-{i}-{k}", score=float(k % 2), answer=str(k), gold="1", latency_s=0.1,
                       critical_path_s=0.1, cost_usd=1e-6, tokens=100, flops_units=2.0,
                       node_answers={"a": str(k), "f": str(k)}, node_scores={"a": 1.0, "f": float(k % 2)},
                       node_usage={n: NodeUsage(tokens_in=40, tokens_out=10, latency_s=0.05, cost_usd=5e-7)
                                   for n in ("a", "f")}) for k in range(ITEMS)]
    return summarize(items, SPEC, task="gsm", graph_hash="h", skipped=0, simulation="simulated", partial=False)


def _writer(store_path: str, cache_path: str, log_path: str, writer: int, saves: int = SAVES) -> None:
    store, cache = ResultsStore(store_path), ResponseCache(Path(cache_path))
    with open(log_path, "a", buffering=1) as log:
        for i in range(saves):
            run_id = store.save(_result(writer, i), SPEC, label=f"w{writer}-{i}")
            log.write(f"run {run_id}\n")
            key = f"w{writer}-{i}"
            cache.put(key, Completion(text=f"answer {i} " * 50, model_id=f"m/{writer}",
                                      usage=Usage(input_tokens=i, output_tokens=i + 1)))
            log.write(f"key {key}\n")
    store.close()
    cache.close()


def _reader(store_path: str, cache_path: str, stop_path: str) -> None:
    """Reads while the others write; any torn read (a run with missing items) exits non-zero."""
    rng = random.Random(os.getpid())
    store, cache = ResultsStore(store_path), ResponseCache(Path(cache_path))
    while not os.path.exists(stop_path):
        runs = store.runs(limit=50)
        if runs:
            run = rng.choice(runs)
            if len(store.load(run["id"]).items) != run["n"]:
                os._exit(3)
        for w in range(WRITERS):
            hit = cache.get(f"w{w}-{rng.randrange(SAVES)}")
            if hit is not None and not hit.text.startswith("answer"):
                os._exit(4)
    store.close()
    cache.close()


def _logged(log: Path, kind: str) -> list[str]:
    if not log.exists():
        return []
    lines = log.read_text().splitlines()
    complete = lines if log.read_text().endswith("\n") else lines[:-1]  # a line cut by the kill
    return [line.split(" ", 1)[1] for line in complete if line.startswith(kind + " ")]


def test_writers_and_readers_killed_mid_stream_lose_no_committed_row(tmp_path):
    store_path, cache_path = tmp_path / "results.sqlite", tmp_path / "cache.sqlite"
    ResultsStore(store_path).close()  # schema first, so readers start on a store
    ResponseCache(cache_path).close()
    stop = tmp_path / "stop"
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    logs = [tmp_path / f"w{w}.log" for w in range(WRITERS)]
    rng = random.Random(SEED)
    victims = rng.sample(range(WRITERS), KILLED_WRITERS)
    writers = [ctx.Process(target=_writer, args=(str(store_path), str(cache_path), str(logs[w]), w,
                                                 VICTIM_SAVES if w in victims else SAVES))
               for w in range(WRITERS)]
    readers = [ctx.Process(target=_reader, args=(str(store_path), str(cache_path), str(stop)))
               for _ in range(READERS)]
    for p in writers + readers:
        p.start()
    for w in victims:  # kill once each victim has committed something, at a seeded moment after that
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        while not _logged(logs[w], "run") and time.monotonic() < deadline and writers[w].is_alive():
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(writers[w].pid, signal.SIGKILL)
    os.kill(readers[0].pid, signal.SIGKILL)
    for w, p in enumerate(writers):
        p.join(JOIN_TIMEOUT_S)
        assert p.exitcode == (-signal.SIGKILL if w in victims else 0)
    stop.write_text("stop")
    for p in readers:
        p.join(JOIN_TIMEOUT_S)
    assert readers[0].exitcode == -signal.SIGKILL and readers[1].exitcode == 0

    for path in (store_path, cache_path):
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with ResultsStore(store_path) as store:
        runs = {r["id"]: r for r in store.runs()}
        for w in range(WRITERS):
            logged = _logged(logs[w], "run")
            assert set(logged) <= set(runs), f"writer {w} lost committed runs"
            if w not in victims:
                assert len(logged) == SAVES
        for run_id, run in runs.items():  # whole or absent: never a run with part of its rows
            loaded = store.load(run_id)
            assert run["n"] == ITEMS and len(loaded.items) == ITEMS
            assert all(set(it.node_usage) == {"a", "f"} for it in loaded.items)
        assert sum(1 for r in runs.values() if r["label"].startswith(tuple(f"w{w}-" for w in victims))) < \
            KILLED_WRITERS * VICTIM_SAVES  # the victims really were cut short
        store.save(_result(99, 0), SPEC, label="after")  # the next writer is not blocked by a dead one
        assert len(store.runs()) == len(runs) + 1
    with ResponseCache(cache_path) as cache:
        for w in range(WRITERS):
            for key in _logged(logs[w], "key"):
                hit = cache.get(key)
                assert hit is not None and hit.model_id == f"m/{w}"
        cache.put("after", Completion(text="x", model_id="m"))
        assert cache.get("after") is not None
