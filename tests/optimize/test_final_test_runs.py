"""A search's chosen graph and single models are scored once on the test items: the routing phase files those test
evaluations as the paired test runs (`FinalChoice.test_runs`) instead of scoring the same graphs on the same items
again. With a measured model each evaluation adds the framework's own time it measured, so the second one differed:
`rolegraph results` showed the chosen graph's test latency as 36.45 s where report.md and `optimize --json` said
36.43 s. Here the models are the sim served on loopback through the real openai client (the answers are the sim's;
their latency is measured as a real model's is: `MEASURED`)."""

from __future__ import annotations

import asyncio

from rolegraph.evaluate.store import ResultsStore
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.api import make_optimizer, optimize_async
from rolegraph.optimize.paired import PAIRED_SET, TEST, results_path
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread, create_app

from .helpers import TINY_MODELS, tiny_config, tiny_space

MEASURED = 0.001
"""The searching side's `latency_scale`: above 0, so a graph's time is measured, not the sim's modelled figure (the
twins are serve-sim's, `answer_key` ones, which count as sim models); it only scales sim-backend sleeps, and here
every model is an openai twin, so nothing sleeps."""


def _served(pool: ModelPool, base_url: str) -> ModelPool:
    twins = [
        pool.get(m).model_copy(
            update={"id": "http/" + m.split("/", 1)[1], "backend": "openai", "base_url": base_url, "model": m,
                    "answer_key": True, "max_concurrency": 8}
        )
        for m in TINY_MODELS
    ]
    return ModelPool(list(pool) + twins)


async def _search(pool: ModelPool, models: tuple[str, ...], task, tmp_path, out):
    hub = ModelHub(pool, Settings(home=tmp_path / "home", cache=True, latency_scale=MEASURED))
    try:
        return await optimize_async(task, tiny_space(pool, models=models), make_optimizer("random"), hub=hub,
                                    config=tiny_config(iterations=1, route_items=4), out=out,
                                    task_args={"name": "gsm", "size": 80})
    finally:
        await hub.aclose()


def test_the_paired_test_runs_are_the_searchs_own_test_evaluations(pool, small_task, tmp_path):
    app = create_app(pool, Settings(home=tmp_path / "server", latency_scale=0.0))
    with ServerThread(app) as srv:
        served = _served(pool, srv.base_url)
        models = tuple("http/" + m.split("/", 1)[1] for m in TINY_MODELS)
        out = tmp_path / "run"
        result = asyncio.run(_search(served, models, small_task, tmp_path, out))
    with ResultsStore(results_path(out)) as store:
        paired = {p.graph_hash: store.load(p.run_id) for p in store.paired(PAIRED_SET, TEST)}
    shown = [result.test, *result.singles]
    assert {s.graph_hash for s in shown} <= set(paired)
    for score in shown:
        stored = paired[score.graph_hash]
        assert stored.mean_latency_s == score.latency_s, score.label  # one evaluation: the same figure
        assert stored.cost_usd / stored.n == score.dollars and stored.accuracy == score.accuracy
