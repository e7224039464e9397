"""Measured call times of real models: the fit, the store, and the hub recording llama.cpp's real calls."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.chat.spec import ModelSpec
from rolegraph.models.timings import MIN_CALLS, TIMINGS_FILE, CallTimings, fit_rates, measured_rates
from rolegraph.settings import Settings

OVERHEAD, PER_PROMPT, PER_OUTPUT = 0.15, 0.0008, 0.021


def rows(n: int, noise: float = 0.0, seed: int = 0) -> list[tuple[int, int, float]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        n_in, n_out = int(rng.integers(50, 2000)), int(rng.integers(1, 400))
        out.append((n_in, n_out, OVERHEAD + PER_PROMPT * n_in + PER_OUTPUT * n_out + noise * rng.standard_normal()))
    return out


def test_fit_recovers_overhead_and_per_token_rates():
    rates = fit_rates(rows(60, noise=0.01))
    assert rates.overhead_s == pytest.approx(OVERHEAD, abs=0.02)
    assert rates.s_per_prompt_token == pytest.approx(PER_PROMPT, rel=0.05)
    assert rates.s_per_output_token == pytest.approx(PER_OUTPUT, rel=0.02)
    assert rates.calls == 60
    assert rates.seconds(1000, 100) == pytest.approx(OVERHEAD + 0.8 + 2.1, rel=0.02)


def test_fit_never_gives_a_negative_rate_and_needs_a_few_calls():
    assert fit_rates(rows(MIN_CALLS - 1)) is None
    # time falls with prompt length in these rows: least squares alone would give a negative rate
    odd = [(100, 10, 1.0), (1000, 10, 0.9), (2000, 10, 0.8), (500, 50, 1.8)]
    rates = fit_rates(odd)
    assert min(rates.overhead_s, rates.s_per_prompt_token, rates.s_per_output_token) >= 0
    assert rates.s_per_prompt_token == 0.0 and rates.s_per_output_token > 0


def test_store_keeps_models_and_endpoints_apart(tmp_path):
    a = ModelSpec(id="my/a", backend="openai", base_url="http://127.0.0.1:1/v1")
    moved = a.model_copy(update={"base_url": "http://127.0.0.1:2/v1"})
    timings = CallTimings(tmp_path / TIMINGS_FILE)
    for n_in, n_out, s in rows(5):
        timings.record(a, n_in, n_out, s)
    timings.record(a, 10, 10, 0.0)  # no time: says nothing
    timings.close()
    assert len(CallTimings(tmp_path / TIMINGS_FILE).rows(a)) == 5
    assert set(measured_rates(tmp_path, [a, ModelSpec(id="sim/x", backend="sim")])) == {"my/a"}
    assert measured_rates(tmp_path, [moved]) == {}  # the same id on another server starts afresh


def test_the_hub_times_real_paid_calls_and_counts_their_dollars(llamacpp, tmp_path):
    """llama.cpp's own server: each paid call is timed and priced; a cache hit adds neither."""
    spec = llamacpp.spec("llamacpp/smollm2", price_in=2.0, price_out=8.0)
    pool = ModelPool([*ModelPool.builtin(), spec])
    settings = Settings(home=tmp_path / "home")
    hub = ModelHub(pool, settings)
    asks = [("Say hi.", 4), ("Count from one to ten in words, please.", 12), ("Name three colours.", 8)]

    async def main():
        model = hub.get(spec.id)
        try:
            outs = [await model.complete([{"role": "user", "content": q}], max_tokens=n) for q, n in asks]
            again = await model.complete([{"role": "user", "content": asks[0][0]}], max_tokens=asks[0][1])
            key = Item(id="t/1", question="2+2?", gold="4", family="math").answer_key()
            sim = await hub.get("sim/llama-3.2-1b").complete(
                [{"role": "user", "content": "2+2?"}], max_tokens=8, answer_key=key)
            return outs, again, sim
        finally:
            await hub.aclose()

    outs, again, sim = asyncio.run(main())
    assert again.cached and not sim.cached
    assert hub.stats.paid == len(asks) + 1
    expected = sum(spec.cost(o.usage.input_tokens, o.usage.output_tokens) for o in outs)
    assert hub.stats.paid_usd == pytest.approx(expected + sim.cost_usd) and expected > 0
    recorded = CallTimings(settings.home / TIMINGS_FILE).rows(spec)
    assert sorted(r[:2] for r in recorded) == sorted((o.usage.input_tokens, o.usage.output_tokens) for o in outs)
    assert sorted(r[2] for r in recorded) == pytest.approx(sorted(o.latency_s for o in outs))
    rates = measured_rates(settings.home, [spec, pool.get("sim/llama-3.2-1b")])
    assert set(rates) == {spec.id} and rates[spec.id].calls == len(asks)


def test_calls_are_written_in_batches_and_none_is_lost(tmp_path):
    """`record` buffers (one transaction per FLUSH_EVERY calls, not per call); a read through the same store
    and `close` write what is buffered, and old rows are still pruned to the latest KEEP_CALLS."""
    import sqlite3

    from rolegraph.models.timings import FLUSH_EVERY, KEEP_CALLS, PRUNE_EVERY

    spec = ModelSpec(id="my/a", backend="openai", base_url="http://127.0.0.1:1/v1")
    path = tmp_path / TIMINGS_FILE
    timings = CallTimings(path)

    def on_disk() -> int:
        with sqlite3.connect(path) as other:
            return other.execute("SELECT COUNT(*) FROM calls").fetchone()[0]

    for n_in, n_out, s in rows(FLUSH_EVERY - 1):
        timings.record(spec, n_in, n_out, s)
    assert on_disk() == 0  # buffered
    timings.record(spec, 10, 10, 0.5)
    assert on_disk() == FLUSH_EVERY  # the FLUSH_EVERY-th call wrote them in one go
    timings.record(spec, 10, 10, 0.5)
    assert len(timings.rows(spec)) == FLUSH_EVERY + 1  # a read writes what is buffered first
    for n_in, n_out, s in rows(KEEP_CALLS + 3 * PRUNE_EVERY, seed=1):
        timings.record(spec, n_in, n_out, s)
    timings.close()
    assert KEEP_CALLS <= on_disk() <= KEEP_CALLS + PRUNE_EVERY + FLUSH_EVERY
    assert len(CallTimings(path).rows(spec)) == KEEP_CALLS
