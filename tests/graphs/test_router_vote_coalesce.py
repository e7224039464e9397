"""A router's plurality stage coalesces its voters as the stage's graph would: through a loopback serve-sim, a
width-5 vote of one model answering by plurality is one request with n=5 (not five full-prompt requests), with the
answers of the uncoalesced run; `coalesce=False` and the node param `coalesce: false` turn it off; the shared
groups never count a node the stage does not run (its output, or a node read from an earlier stage)."""
from __future__ import annotations

import asyncio
import json

import pytest

from rolegraph.graphs.coalesce import running_groups
from rolegraph.graphs.router import RouterSpec, Stage, StopRule
from rolegraph.graphs.router_runtime import CompiledRouter
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread, create_app

from tests.graphs.test_coalesce import ITEM, vote
from tests.models.conftest import HTTP_ID, http_spec


class BodyRecorder:
    """An ASGI wrapper recording the JSON body of every chat completion request the app receives."""

    def __init__(self, app):
        self.app, self.bodies = app, []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].endswith("/chat/completions"):
            return await self.app(scope, receive, send)
        chunks: list[bytes] = []

        async def recorded():
            msg = await receive()
            if msg["type"] == "http.request":
                chunks.append(msg.get("body", b""))
                if not msg.get("more_body"):
                    self.bodies.append(json.loads(b"".join(chunks)))
            return msg

        return await self.app(scope, recorded, send)


@pytest.fixture
def recorded(tmp_path):
    """(recorder, pool with HTTP_ID on a loopback serve-sim behind the recorder)."""
    recorder = BodyRecorder(create_app(ModelPool.builtin(), Settings(home=tmp_path / "srv", latency_scale=0.0)))
    with ServerThread(recorder) as srv:
        yield recorder, ModelPool([*ModelPool.builtin(), http_spec(srv.base_url)])


def _run(router, pool, settings):
    async def go():
        hub = ModelHub(pool, settings)
        try:
            return await CompiledRouter(router, hub).run(ITEM)
        finally:
            await hub.aclose()

    return asyncio.run(go())


def _sizes(bodies) -> list[int]:
    return [b.get("n") or 1 for b in bodies]


def vote_cascade(**params) -> RouterSpec:
    """Stage 1: five solvers of one model answer by plurality; stage 2: the same vote with its fuser."""
    v5 = vote(HTTP_ID, **params)
    return RouterSpec(stages=[Stage(graph=v5, stop=StopRule(min_agreement=1.0), answer="plurality"), Stage(graph=v5)])


def test_a_plurality_stage_sends_its_five_voters_as_one_request_with_the_uncoalesced_answers(recorded, tmp_path):
    recorder, pool = recorded
    router = vote_cascade()
    on = _run(router, pool, Settings(home=tmp_path / "a", cache=False))
    assert on.stage == 2  # ITEM's five samples disagree: stage 2 runs, reading the voters and adding the fuser
    assert _sizes(recorder.bodies) == [5, 1]  # the voters in one n=5 request, then the fuser
    recorder.bodies.clear()
    off = _run(router, pool, Settings(home=tmp_path / "b", cache=False, coalesce=False))
    assert _sizes(recorder.bodies) == [1] * 6
    assert [(n.id, n.answer, n.output) for n in on.nodes] == [(n.id, n.answer, n.output) for n in off.nodes]
    assert len({n.output for n in on.nodes if n.role == "solver"}) > 1  # five distinct samples
    assert (on.answer, on.stages[0].answer) == (off.answer, off.stages[0].answer)
    assert on.stages[0].cost_usd < off.stages[0].cost_usd  # the prompt billed once instead of five times


def test_the_node_param_coalesce_false_keeps_the_voters_apart(recorded, tmp_path):
    recorder, pool = recorded
    _run(vote_cascade(coalesce=False), pool, Settings(home=tmp_path / "a", cache=False))
    assert _sizes(recorder.bodies) == [1] * 6


def test_shared_groups_count_only_the_nodes_the_stage_runs(recorded, tmp_path):
    """Stage 2 votes with five solvers, three of them read from stage 1: only its two new solvers share a request,
    and its groups (what the first member waits for) hold those two only."""
    recorder, pool = recorded
    v3, v5 = vote(HTTP_ID, k=3), vote(HTTP_ID, k=5)
    router = RouterSpec(stages=[Stage(graph=v3, stop=StopRule(min_agreement=1.0), answer="plurality"),
                                Stage(graph=v5, answer="plurality")])

    async def go():
        hub = ModelHub(pool, Settings(home=tmp_path / "a", cache=False))
        try:
            compiled = CompiledRouter(router, hub)
            return compiled, await compiled.run(ITEM)
        finally:
            await hub.aclose()

    compiled, res = asyncio.run(go())
    assert res.stage == 2 and res.stages[1].reused == ["s0", "s1", "s2"]
    assert _sizes(recorder.bodies) == [3, 2]
    stage2 = compiled.votes[1]
    assert stage2 is not None and set(stage2.groups) == {"s3", "s4"}
    assert set(stage2.graph.coalesce) == {f"s{i}" for i in range(5)}  # the stage graph's own groups, unrestricted


def test_running_groups_drop_idle_nodes_and_groups_left_alone():
    groups = {"a": "k1", "b": "k1", "c": "k1", "d": "k2", "e": "k2"}
    assert running_groups(groups, {"a"}) == {"b": "k1", "c": "k1"} | {"d": "k2", "e": "k2"}
    assert running_groups(groups, {"a", "b", "d"}) == {}
    assert running_groups(groups, set()) == groups
