"""A choice of an `n` request from a real endpoint is not the sample a request for it alone draws, so the cache
keeps it apart: a later plain call (an uncoalesced run) makes its own request, a coalesced run replays it. Draws
that were made per sample (the k plain requests of a refused `n`) are stored where plain calls find them.
Against llama.cpp's own server: two slots (takes n=2) and the one-slot session server (refuses n>1)."""
from __future__ import annotations

import asyncio

from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.models.cache import CachedChatModel, ResponseCache
from rolegraph.models.hub import ModelHub
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

from tests.graphs.test_coalesce import vote
from tests.models.test_coalesce_limits import COLOUR, FAST, llamacpp2  # noqa: F401 - the two-slot llama.cpp fixture

SAMPLING = {"temperature": 0.9, "max_tokens": 3, "seed": 4}


def _coalesced_then_plain(server, settings):
    spec = server.spec()

    async def go():
        cache = ResponseCache(settings.cache_path)
        backend = OpenAIChatModel(spec, settings, timeout_s=120.0, **FAST)
        model = CachedChatModel(backend, cache, spec)
        many = await model.complete_n(COLOUR, samples=[1, 2], **SAMPLING)
        replay = await model.complete_n(COLOUR, samples=[1, 2], **SAMPLING)
        plain = [await model.complete(COLOUR, sample=s, **SAMPLING) for s in (1, 2)]
        after = await model.complete_n(COLOUR, samples=[1, 2], **SAMPLING)
        await backend.aclose()
        cache.close()
        return backend, many, replay, plain, after

    return asyncio.run(go())


def test_plain_calls_are_not_served_the_choices_of_an_n_request(llamacpp2, settings):  # noqa: F811
    backend, many, replay, plain, after = _coalesced_then_plain(llamacpp2, settings)
    assert backend.n_support is True  # the two samples came as one n=2 request
    assert not any(c.cached for c in many)
    assert all(c.cached for c in replay) and [c.text for c in replay] == [c.text for c in many]  # replayed
    assert not any(c.cached for c in plain)  # each plain call made its own request
    # a sample's own draw, once there is one, is what a coalesced call is answered with (as an uncoalesced run)
    assert all(c.cached for c in after) and [c.text for c in after] == [c.text for c in plain]


def test_per_sample_fallback_draws_are_found_by_plain_calls(llamacpp, settings):
    """The one-slot server refuses n=2, so the two samples were drawn by plain requests: the very calls `complete`
    makes, which then find them."""
    backend, many, replay, plain, after = _coalesced_then_plain(llamacpp, settings)
    assert backend.n_support is False
    assert all(c.cached for c in plain) and [c.text for c in plain] == [c.text for c in many]
    assert all(c.cached for c in replay + after)


def test_an_uncoalesced_run_after_a_coalesced_one_makes_its_own_calls(llamacpp2, tmp_path):  # noqa: F811
    """The probe's finding, through the runtime: a vote of two on llama.cpp, coalesced, then with `--no-coalesce`;
    the second run's solvers were all cache hits before (served draws they never made). A third, coalesced run
    makes no call."""
    spec_model = llamacpp2.spec()
    pool = ModelPool([*ModelPool.builtin(), spec_model])
    spec = vote(spec_model.id, k=2, max_tokens=3, temperature=0.9)
    spec = spec.model_copy(update={"nodes": [n if n.role == "solver" else n.model_copy(
        update={"params": {"max_tokens": 3}}) for n in spec.nodes]})
    home = tmp_path / "h"

    def run(**settings):
        async def go():
            hub = ModelHub(pool, Settings(home=home, **settings))
            try:
                return await CompiledGraph(spec, hub).run("Name a colour.", seed=1)
            finally:
                await hub.aclose()

        return asyncio.run(go())

    first = run()
    plain = run(coalesce=False)
    again = run()
    solvers = [n.id for n in first.nodes if n.role == "solver"]
    assert [n.cached_calls for n in first.nodes if n.id in solvers] == [0, 0]
    assert [n.cached_calls for n in plain.nodes if n.id in solvers] == [0, 0]  # its own calls
    # a coalesced run takes a sample's own draw where there is one: the plain run's, so it answers as that run did
    assert [n.cached_calls for n in again.nodes] == [1, 1, 1]
    assert [n.output for n in again.nodes] == [n.output for n in plain.nodes]
