"""The hub's spend guard on the paths other than a plain `complete`: a streamed call frees what it held once it
ends (else the cap shrinks by every stream's worst case and a search stops with dollars "in flight" that are not),
and a k-sample call holds k calls' worst case (else k replies that each use max_tokens pass --max-dollars).
Prices are chosen so every figure is exact; the model is a test double served through `ModelHub.use`."""

from __future__ import annotations

import asyncio

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import Completion, Usage
from rolegraph.errors import BudgetExceededError
from rolegraph.models.hub import ModelHub
from rolegraph.models.multi import complete_many
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.spending import SpendMeter
from rolegraph.settings import Settings

MODEL = "my/exact"
CAP = 2.0
PROMPT = [{"role": "user", "content": ""}]  # no prompt characters: a call's worst case is its max_tokens alone


class LongWinded:
    """Answers with every token it is allowed (the worst case comes true), at $0.50 an output token."""

    def __init__(self) -> None:
        self.calls = 0

    model_id = MODEL

    def _reply(self, max_tokens: int) -> Completion:
        self.calls += 1
        return Completion(text="ok", model_id=MODEL, usage=Usage(input_tokens=0, output_tokens=max_tokens))

    async def complete(self, messages, *, max_tokens: int = 1, **kwargs) -> Completion:
        return self._reply(max_tokens)

    async def stream(self, messages, *, max_tokens: int = 1, **kwargs):
        yield "ok"
        yield self._reply(max_tokens)


def _hub(tmp_path) -> tuple[ModelHub, SpendMeter, LongWinded]:
    spec = ModelSpec(id=MODEL, backend="openai", base_url="http://127.0.0.1:9/v1", model="m", price_out=500_000.0)
    hub = ModelHub(ModelPool([*ModelPool.builtin(), spec]), Settings(home=tmp_path / "home", cache=False))
    double = LongWinded()
    hub.use(MODEL, double)
    hub.spend_guard = meter = SpendMeter.start(hub.stats, CAP)
    return hub, meter, double


def test_a_finished_stream_frees_what_it_held(tmp_path):
    hub, meter, _ = _hub(tmp_path)
    model = hub.get(MODEL)

    async def go():
        async for _ in model.stream(PROMPT, max_tokens=1):  # $0.50 paid
            pass
        assert meter.held == 0
        return await model.complete(PROMPT, max_tokens=3)  # $0.50 + up to $1.50: exactly the cap, allowed

    try:
        out = asyncio.run(go())
    finally:
        asyncio.run(hub.aclose())
    assert out.text == "ok" and hub.stats.paid_usd == CAP


def test_k_samples_hold_k_worst_cases_so_they_cannot_pass_the_cap_together(tmp_path):
    hub, meter, double = _hub(tmp_path)
    try:
        with pytest.raises(BudgetExceededError):  # 3 samples x up to $1.00 = $3.00 > $2.00
            asyncio.run(complete_many(hub.get(MODEL), PROMPT, samples=[0, 1, 2], max_tokens=2))
    finally:
        asyncio.run(hub.aclose())
    assert double.calls == 0 and hub.stats.paid_usd == 0 and meter.held == 0
