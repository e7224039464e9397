"""`SearchResult.paid_calls` counts this search's calls the cache did not answer, like `paid_usd`, not the
lifetime count of a hub reused across searches."""
from __future__ import annotations

import asyncio

from rolegraph.models.hub import ModelHub
from rolegraph.optimize.api import make_optimizer, optimize_async
from rolegraph.settings import Settings

from .helpers import tiny_config, tiny_space


def test_a_fully_cached_rerun_on_a_reused_hub_pays_for_no_call(pool, small_task, tmp_path):
    async def main():
        hub = ModelHub(pool, Settings(home=tmp_path / "home"))
        try:
            runs = []
            for _ in range(2):
                runs.append(await optimize_async(small_task, tiny_space(pool), make_optimizer("random"), hub=hub,
                                                 config=tiny_config()))
            return runs, hub.stats.paid
        finally:
            await hub.aclose()

    (first, again), lifetime = asyncio.run(main())
    assert first.paid_calls == lifetime > 0  # the first search made every uncached call the hub saw
    assert again.paid_calls == 0 and again.paid_usd == 0.0  # the same search again: all from the cache
