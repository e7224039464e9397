"""What an endpoint taught about `n` (its limit, the rule its usage follows) is kept by the pool, keyed by endpoint,
not by the model object a hub makes: a hub closes and remakes its models after every sync call, and each lesson
cost requests (a refused `n`, a usage probe). Counted on the loopback servers' side, from the bodies they received."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.evaluate.runner import evaluate_sync
from rolegraph.graphs.builder import Graph
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.models.openai_replies import FIRST_CHOICE
from rolegraph.models.pool import EndpointLessons, ModelPool, NLesson
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread
from tests.models.fake_servers import NoNServer
from tests.models.test_coalesce_usage_rule import DIGITS, CountingServer

FAST = {"backoff_base_s": 0.001, "backoff_cap_s": 0.01}
MODEL_ID = "rec/m"


def _pool(base_url: str) -> ModelPool:
    spec = ModelSpec(id=MODEL_ID, backend="openai", base_url=base_url, model="m", price_in=1.0, price_out=2.0)
    return ModelPool([*ModelPool.builtin(), spec])


def _two_models(pool: ModelPool, settings: Settings) -> None:
    """`complete_n` of two samples on one model object, then on a second one made from the same pool entry (as a
    hub remakes it after `aclose`), both given the pool's lessons as a hub gives them."""

    async def once():
        model = OpenAIChatModel(pool.get(MODEL_ID), settings, timeout_s=5.0, **FAST)
        model.endpoint_lessons = pool.lessons
        try:
            return await model.complete_n(DIGITS, samples=[1, 2], temperature=0.7, max_tokens=64)
        finally:
            await model.aclose()

    for _ in range(2):
        assert len(asyncio.run(once())) == 2


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home", cache=False)


def test_a_refused_n_is_not_sent_again_by_the_next_model_object(settings):
    """llama.cpp's refusal of n=2: the first model object sends it once (then two plain requests); the second,
    made afresh from the same pool, sends its two samples as plain requests without asking n=2 again."""
    server = NoNServer("refuse")
    with ServerThread(server.app) as srv:
        pool = _pool(srv.base_url)
        _two_models(pool, settings)
    assert [b.get("n", 1) for b in server.bodies] == [2, 1, 1, 1, 1]
    assert pool.lessons.recall(srv.base_url, "m").n_max == 1


def test_the_usage_probe_is_sent_once_per_pool(settings):
    """A first-choice usage that the first reply cannot prove: one usage probe (n=2, max_tokens 1), once; the
    second model object reads its n=2 reply by the rule the pool kept."""
    server = CountingServer("first")
    with ServerThread(server.app) as srv:
        pool = _pool(srv.base_url)
        _two_models(pool, settings)
    probes = [b for b in server.bodies if b["max_tokens"] == 1]
    assert len(probes) == 1 and len(server.bodies) == 3
    assert pool.lessons.recall(srv.base_url, "m").n_usage == FIRST_CHOICE


def test_lessons_are_per_endpoint_and_only_narrow():
    lessons = EndpointLessons()
    lessons.keep("http://a/v1", "m", NLesson(n_ok=4))
    lessons.keep("http://a/v1", "m", NLesson(n_max=2))
    assert lessons.recall("http://a/v1", "m") == NLesson(n_ok=2, n_max=2)
    assert lessons.recall("http://a/v1", "other") == NLesson() == lessons.recall("http://b/v1", "m")


def _vote(k: int = 3):
    g = Graph("vote")
    for i in range(k):
        g = g.node(f"s{i}", "solver", MODEL_ID)
    g = g.node("f", "fuser", MODEL_ID)
    for i in range(k):
        g = g.edge(f"s{i}", "f")
    return g.build()


def test_a_second_evaluate_sync_on_one_pool_sends_no_probe(tmp_path):
    """Through the public sync wrapper: the first `evaluate_sync` of a vote (three solvers sampled together) learns
    that the endpoint refuses n=3; the second, on the same pool and hub, sends no request with n > 1."""
    from rolegraph.tasks.registry import get_task

    task = get_task("gsm", size=8)
    items = [Item(id="q1", question="What is 3 + 4?", gold="7")]
    server = NoNServer("refuse")
    with ServerThread(server.app) as srv:
        pool = _pool(srv.base_url)
        hub = ModelHub(pool, Settings(home=tmp_path / "home", cache=False))
        evaluate_sync(_vote(), task, items, hub=hub, progress=False)
        first = len(server.bodies)
        evaluate_sync(_vote(), task, items, hub=hub, progress=False)
    assert [b.get("n", 1) for b in server.bodies[:first]].count(3) == 1  # the first call learnt it, once
    assert all(b.get("n", 1) == 1 for b in server.bodies[first:])
