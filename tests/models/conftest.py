"""Shared fixtures: a loopback serve-sim, specs pointing at it, task-item messages, a recording sleep, the message
of a failed call."""
from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path

import pytest

from rolegraph.items import AnswerKey, Item
from rolegraph.sim.faults import FaultConfig
from rolegraph.models.pool import ModelPool
from rolegraph.chat.spec import ModelSpec
from rolegraph.settings import Settings
from rolegraph.transcript import render_input, role_line

SIM_ID = "sim/llama-3.2-3b"
HTTP_ID = "http/llama-3.2-3b"


def failed_call_message(model) -> str:
    """The message of the `ModelCallError` one call to `model` ends with (the model closed after it)."""
    from rolegraph.models.openai_errors import ModelCallError

    async def go():
        try:
            await model.complete([{"role": "user", "content": "hi"}])
        finally:
            await model.aclose()

    with pytest.raises(ModelCallError) as err:
        asyncio.run(go())
    return str(err.value)


class RecordingSleep:
    """Records every wait the retry policy asks for and yields without really waiting."""

    def __init__(self):
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


def http_spec(base_url: str, model: str = SIM_ID, *, answer_key: bool = True, max_concurrency: int = 16,
              model_id: str = HTTP_ID, **extra) -> ModelSpec:
    """A pool entry for a model served over HTTP by serve-sim, priced so that cost is non-zero."""
    return ModelSpec(id=model_id, backend="openai", base_url=base_url, model=model, answer_key=answer_key,
                     max_concurrency=max_concurrency, price_in=0.5, price_out=1.5, **extra)


def task_calls(n: int, offset: int = 0) -> list[tuple[list[dict], AnswerKey]]:
    """n distinct (messages, answer key) pairs laid out as a solver node's input."""
    calls = []
    for i in range(offset, offset + n):
        a, b = 3 + i % 17, 5 + (i * 7) % 23
        item = Item(id=f"arith-{i}", question=f"What is {a} * {b}?", gold=str(a * b), family="math",
                    metadata={"distractors": [str(a * b + 1), str(a * b - 2)]})
        messages = [{"role": "system", "content": role_line("solver") + " Answer with 'Final answer: X'."},
                    {"role": "user", "content": render_input(item.question, [])}]
        calls.append((messages, item.answer_key()))
    return calls


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", cache=True, latency_scale=0.0)


@pytest.fixture
def serve(settings):
    """serve(faults=None) -> a started ServerThread over the built-in sim pool; all stopped at teardown."""
    from rolegraph.sim.server import ServerThread, create_app

    with ExitStack() as stack:
        def start(faults: FaultConfig | None = None, pool: ModelPool | None = None):
            app = create_app(pool or ModelPool.builtin(), settings, faults)
            return stack.enter_context(ServerThread(app))

        yield start


@pytest.fixture
def server(serve):
    """A fault-free loopback server."""
    return serve()
