"""`async with ModelHub(...)` closes the hub on the way out, and the hub stays usable after `aclose`."""
from __future__ import annotations

import asyncio

from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from tests.models.conftest import task_calls

MODEL = "sim/llama-3.2-1b"


def test_async_with_closes_the_hub_and_it_can_be_used_again(tmp_path):
    messages, key = task_calls(1)[0]

    async def main():
        closed: list[bool] = []
        async with ModelHub(ModelPool.builtin(), Settings(home=tmp_path / "h")) as hub:
            real_close = hub.aclose

            async def spy() -> None:
                closed.append(True)
                await real_close()

            hub.aclose = spy  # type: ignore[method-assign]
            first = await hub.get(MODEL).complete(messages, max_tokens=16, answer_key=key)
        # the clients and the cache are re-made lazily
        again = await hub.get(MODEL).complete(messages, max_tokens=16, answer_key=key)
        await real_close()
        return closed, first, again, hub.stats

    closed, first, again, stats = asyncio.run(main())
    assert closed == [True]
    assert again.text == first.text and again.cached and stats.calls == 2
