"""Load: hundreds of concurrent item evaluations through the loopback server under a concurrency
limit all finish, the server never sees more requests at once than the limits allow, and the memory
traced while they run stays within a fixed bound (the 1,000-item variant is in
benchmarks/reliability/load.py, with its figures in docs/reliability.md).
"""
from __future__ import annotations

import pytest

from .loadrun import GRAPH, MODEL_CONCURRENCY, WIDTH, run_load

ITEMS = 120
CONCURRENCY = 24
RSS_GROWTH_BOUND_MB = 150
"""Generous: the run (server and client in this process) grows resident memory by some 10-40 MB; a leak
per item or an unbounded queue of in-flight requests would pass it quickly."""


@pytest.fixture(scope="module")
def arith():
    from rolegraph.tasks.registry import get_task

    return get_task("arith", size=ITEMS)


def test_many_concurrent_items_finish_within_the_limits(arith, tmp_path):
    items = arith.items("all", None, 0)
    assert len(items) == ITEMS
    stats = run_load(items, arith, tmp_path, concurrency=CONCURRENCY)
    assert stats.failures == 0 and 0 < stats.accuracy <= 1
    assert stats.requests == ITEMS * len(GRAPH.nodes)  # every call reached the server once (no cache)
    models = {n.model for n in GRAPH.nodes}
    assert stats.max_in_flight <= min(CONCURRENCY * WIDTH, MODEL_CONCURRENCY * len(models))
    assert stats.max_in_flight > 1  # and it really ran concurrently
    assert stats.rss_growth_mb < RSS_GROWTH_BOUND_MB, stats
