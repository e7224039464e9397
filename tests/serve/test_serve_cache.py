"""`rolegraph serve --cache`: a reply answered from the response cache says so in its `rolegraph` details, as
`run --json` does (`calls`, `cached_calls`, and per node `cached_calls`), and keeps the cost and latency its calls had
when first made (docs/tutorials/serve.md). Before, nothing marked such a reply: it showed the full cost, which the
server had not paid again, and the first call's latency."""
from __future__ import annotations

import json
import os

import httpx
import pytest

from rolegraph.settings import HOME_ENV
from rolegraph.sim.server import ServerThread
from tests.cli.test_serve_cmd import Started

from .test_lifecycle import SLOW_ID, Upstream

DELAY_S = 0.3
PRICE_IN, PRICE_OUT = 100.0, 200.0  # dollars per 1M tokens
RUN_COST = 2 * (10 * PRICE_IN + 5 * PRICE_OUT) / 1e6  # two calls of the upstream's 10 prompt + 5 completion tokens
QUESTION = [{"role": "user", "content": "What is six times seven?"}]


@pytest.fixture(scope="module")
def upstream():
    up = Upstream()
    with ServerThread(up.app) as server:
        up.base_url = server.base_url
        yield up


@pytest.fixture
def cached_server(upstream, tmp_path):
    upstream.reset(delay_s=DELAY_S)
    pool_file, graph_file = tmp_path / "pool.yaml", tmp_path / "two.yaml"
    pool_file.write_text(f"models:\n  - {{id: {SLOW_ID}, backend: openai, base_url: '{upstream.base_url}', "
                         f"model: echo, params_b: 0.135, layers: 30, hidden: 576, context_window: 2048, "
                         f"price_in: {PRICE_IN}, price_out: {PRICE_OUT}}}\n")
    graph_file.write_text(f"name: two\nnodes:\n  - {{id: solve, role: solver, model: {SLOW_ID}}}\n"
                          f"  - {{id: check, role: verifier, model: {SLOW_ID}}}\nedges: [[solve, check]]\n")
    server = Started(["serve", str(graph_file), "--pool", str(pool_file), "--cache"],
                     os.environ | {HOME_ENV: str(tmp_path / "home")})
    yield server
    server.stop()


def _plain(base_url: str) -> dict:
    reply = httpx.post(f"{base_url}/chat/completions", json={"model": "two", "messages": QUESTION}, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["rolegraph"]


def _streamed(base_url: str) -> dict:
    body = {"model": "two", "stream": True, "messages": QUESTION}
    with httpx.stream("POST", f"{base_url}/chat/completions", json=body, timeout=30) as r:
        chunks = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: {")]
    return next(c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"])["rolegraph"]


def test_a_reply_from_the_cache_says_its_calls_were_cached_and_the_upstream_saw_them_once(upstream, cached_server):
    first = _plain(cached_server.base_url)
    assert upstream.requests == 2
    assert (first["calls"], first["cached_calls"]) == (2, 0)
    assert [n["cached_calls"] for n in first["nodes"]] == [0, 0]

    again = _plain(cached_server.base_url)
    streamed = _streamed(cached_server.base_url)
    assert upstream.requests == 2  # both answered from the cache: no upstream request
    for details in (again, streamed):
        assert (details["calls"], details["cached_calls"]) == (2, 2)
        assert [(n["id"], n["cached_calls"]) for n in details["nodes"]] == [("solve", 1), ("check", 1)]
        # as `run --json` reports a cached run: the calls' cost and latency as first made (not paid again)
        assert details["cost_usd"] == pytest.approx(RUN_COST)
        assert details["latency_s"] >= 2 * DELAY_S
    assert first["cost_usd"] == pytest.approx(RUN_COST)
