"""An evaluation cancelled mid-item (Ctrl-C in `rolegraph eval`, a search's stop) waits for its real calls already
sent before it ends: the endpoint bills them whether or not anyone reads the reply, so they are counted and cached,
and evaluating again sends none of them. Before, the cancel dropped them: billed, uncounted, sent again."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.evaluate.runner import evaluate
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread
from rolegraph.tasks.registry import get_task
from tests.models.conftest import http_spec
from tests.models.slow_server import PRICE_IN, PRICE_OUT, SlowBilling

MODEL = "llc/slow"


def test_an_evaluation_cancelled_mid_call_counts_and_caches_the_calls_it_sent(tmp_path):
    server = SlowBilling(delay_s=0.6)
    said: list[str] = []
    task = get_task("arith", size=20)
    items = task.items("test", n=3)
    graph = GraphSpec.model_validate({"name": "one", "nodes": [{"id": "s", "role": "solver", "model": MODEL}]})
    with ServerThread(server.app) as thread:
        spec = http_spec(thread.base_url, model="m", model_id=MODEL, answer_key=False).model_copy(
            update={"price_in": PRICE_IN, "price_out": PRICE_OUT})
        hub = ModelHub(ModelPool([spec]), Settings(home=tmp_path / "home", cache=True))
        hub.in_flight.notice = said.append

        async def go():
            run = asyncio.create_task(evaluate(graph, task, items, hub=hub, progress=False))
            await asyncio.to_thread(server.arrived.wait, 10)
            await asyncio.sleep(0.1)
            run.cancel()  # as Ctrl-C cancels `rolegraph eval`'s task
            with pytest.raises(asyncio.CancelledError):
                await run
            paid = hub.stats.paid_usd
            sent = len(server.bodies)
            again = await evaluate(graph, task, items, hub=hub, progress=False)
            await hub.aclose()
            return paid, sent, again

        paid, sent, again = asyncio.run(go())
        server.settled()
    assert sent == len(items)  # all three calls were at the server when the evaluation was cancelled
    assert paid == pytest.approx(server.billed(0), rel=1e-12) and paid > 0  # counted before the cancel ended
    assert len(server.bodies) == sent and again.n == len(items)  # the second evaluation was answered from the cache
    assert said == [f"waiting for {sent} paid calls in flight (interrupt again to leave them)"]
