"""Many item evaluations through the loopback server under a concurrency limit, measuring memory and
the number of requests the server ever had in flight. Shared by tests/reliability/test_load.py (small)
and benchmarks/reliability/load.py (1,000 items).
"""
from __future__ import annotations

import asyncio
import threading
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rolegraph.evaluate.runner import evaluate
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.sim.server import ServerThread, create_app
from rolegraph.settings import Settings

from .searching import http_models

MB = 1024 * 1024
MODEL_CONCURRENCY = 8  # each HTTP twin's max_concurrency (the client-side semaphore)
GRAPH = GraphSpec(name="vote2", nodes=[NodeSpec(id="a", role="solver", model="http/llama-3.2-1b"),
                                       NodeSpec(id="b", role="solver", model="http/llama-3.2-3b"),
                                       NodeSpec(id="f", role="fuser", model="http/llama-3.1-8b")],
                  edges=[("a", "f"), ("b", "f")])
WIDTH = 2  # most nodes of GRAPH that can be in flight at once for one item


@dataclass
class LoadStats:
    items: int
    concurrency: int
    seconds: float
    failures: int
    requests: int
    max_in_flight: int
    traced_peak_mb: float  # peak of Python allocations while running (0 when not traced)
    rss_growth_mb: float  # peak resident memory while running, minus resident memory before
    rss_peak_mb: float
    accuracy: float


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RssSampler:
    """Samples this process's resident memory every `every_s` seconds in a thread (cheap, unlike tracemalloc)."""

    def __init__(self, every_s: float = 0.02):
        self.every_s = every_s
        self.baseline = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


class InFlight:
    """Wraps the server's chat handler to count concurrent requests."""

    def __init__(self, service: Any):
        self.now = self.peak = 0
        inner = service.chat

        async def chat(request):
            self.now += 1
            self.peak = max(self.peak, self.now)
            try:
                return await inner(request)
            finally:
                self.now -= 1

        service.chat = chat


def run_load(items: list, task: Any, home: Path, *, concurrency: int, trace_memory: bool = False) -> LoadStats:
    """Evaluate GRAPH on `items` (no response cache: every call reaches the server)."""
    settings = Settings(home=home, cache=False)
    with ServerThread(create_app(ModelPool.builtin(), Settings(home=home / "server", cache=False))) as server:
        counter = InFlight(server.app.state.service)
        pool = http_models(ModelPool.builtin(), server.base_url)
        pool = ModelPool([s.model_copy(update={"max_concurrency": MODEL_CONCURRENCY})
                          if s.id.startswith("http/") else s for s in pool])
        hub = ModelHub(pool, settings)

        async def main():
            try:
                return await evaluate(GRAPH, task, items, hub=hub, concurrency=concurrency, progress=False)
            finally:
                await hub.aclose()

        if trace_memory:
            tracemalloc.start()
        started = time.perf_counter()
        try:
            with RssSampler() as rss:
                result = asyncio.run(main())
        finally:
            seconds = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] if trace_memory else 0
            if trace_memory:
                tracemalloc.stop()
        stats = server.app.state.stats
    return LoadStats(items=len(items), concurrency=concurrency, seconds=seconds, failures=result.failures,
                     requests=stats.requests, max_in_flight=counter.peak, traced_peak_mb=peak / MB,
                     rss_growth_mb=rss.peak - rss.baseline, rss_peak_mb=rss.peak, accuracy=result.accuracy)
