"""The sync wrappers (evaluate_sync, run_graph_sync, optimize): refused inside a running loop with one line, and
leak-free on a real loopback HTTP endpoint, with the same hub reused across calls."""
from __future__ import annotations

import asyncio
import gc
import sys
import warnings

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import RolegraphError
from rolegraph.evaluate.runner import evaluate_sync
from rolegraph.graphs.runtime import run_graph_sync
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.api import optimize
from rolegraph.optimize.space import SearchSpace
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task

HTTP_ID = "http/llama-3.2-3b"
GSM_SIZE = 80
ITEMS = 3


def _graph(model: str) -> GraphSpec:
    return GraphSpec.model_validate({"name": "one", "nodes": [{"id": "s", "role": "solver", "model": model}]})


@pytest.fixture
def gsm():
    task = get_task("gsm", seed=0, size=GSM_SIZE)
    return task, task.items("all", ITEMS, seed=0)


class _Leaks:
    """Every warning and every exception raised where nobody can catch it (a __del__ at garbage collection)."""

    def __init__(self):
        self.unraisable: list[str] = []
        self._hook = sys.unraisablehook
        self._catch = warnings.catch_warnings(record=True)

    def __enter__(self) -> _Leaks:
        self.warned = self._catch.__enter__()
        warnings.simplefilter("always")
        sys.unraisablehook = lambda u: self.unraisable.append(f"{u.exc_type.__name__}: {u.exc_value}")
        return self

    def __exit__(self, *exc) -> None:
        gc.collect()
        sys.unraisablehook = self._hook
        self._catch.__exit__(*exc)

    def problems(self) -> list[str]:
        leaked = [str(w.message) for w in self.warned if issubclass(w.category, (ResourceWarning, RuntimeWarning))]
        return leaked + self.unraisable


@pytest.fixture
def http_pool(settings):
    from rolegraph.sim.server import ServerThread, create_app

    with ServerThread(create_app(ModelPool.builtin(), settings)) as server:
        spec = ModelSpec(id=HTTP_ID, backend="openai", base_url=server.base_url, model="sim/llama-3.2-3b",
                         answer_key=True, params_b=3.21, layers=28, hidden=3072)
        yield ModelPool([*ModelPool.builtin(), spec])


def test_evaluate_sync_twice_on_one_hub_leaks_nothing(gsm, http_pool, tmp_path):
    task, items = gsm
    with _Leaks() as leaks:
        hub = ModelHub(http_pool, Settings(home=tmp_path / "h", cache=False))
        first = evaluate_sync(_graph(HTTP_ID), task, items, hub=hub, progress=False)
        second = evaluate_sync(_graph(HTTP_ID), task, items, hub=hub, progress=False)
        del hub
    assert first.n == second.n == ITEMS and first.failures == second.failures == 0
    assert leaks.problems() == []


def test_run_graph_sync_twice_on_one_hub_leaks_nothing(gsm, http_pool, tmp_path):
    _, items = gsm
    with _Leaks() as leaks:
        hub = ModelHub(http_pool, Settings(home=tmp_path / "h", cache=False))
        runs = [run_graph_sync(_graph(HTTP_ID), items[0], hub) for _ in range(2)]
        del hub
    assert all(r.answer for r in runs) and hub_calls(runs) == 2
    assert leaks.problems() == []


def hub_calls(runs) -> int:
    return sum(len(r.nodes) for r in runs)


def test_a_used_model_survives_the_sync_wrappers_closing_the_hub(gsm, tmp_path):
    """Closing the hub after a sync call must not swap a model given to `use()` for the pool's own backend."""
    task, items = gsm

    class Fixed:
        model_id = "sim/llama-3.2-1b"
        calls = 0

        async def complete(self, messages, **kwargs):
            from rolegraph.chat.types import Completion, Usage

            Fixed.calls += 1
            return Completion(text="Final answer: 7", usage=Usage(input_tokens=1, output_tokens=1),
                              latency_s=0.0, model_id=self.model_id)

    hub = ModelHub(ModelPool.builtin(), Settings(home=tmp_path / "h", cache=False))
    hub.use("sim/llama-3.2-1b", Fixed())
    for _ in range(2):
        evaluate_sync(_graph("sim/llama-3.2-1b"), task, items, hub=hub, progress=False)
    assert Fixed.calls == 2 * ITEMS


def test_optimize_closes_a_given_hub(gsm, tmp_path, monkeypatch):
    task, _ = gsm
    pool = ModelPool.builtin()
    hub = ModelHub(pool, Settings(home=tmp_path / "h"))
    closed: list[bool] = []
    real_close = hub.aclose

    async def spy() -> None:
        closed.append(True)
        await real_close()

    monkeypatch.setattr(hub, "aclose", spy)
    space = SearchSpace(pool=pool, models=("sim/llama-3.2-1b",), roles=("solver",), max_nodes=1, budget=None)
    from rolegraph.optimize.api import make_optimizer
    from rolegraph.optimize.context import SearchConfig

    config = SearchConfig(iterations=1, samples=1, batch=2, validation_items=2, test_items=2, top_candidates=1)
    result = optimize(task, space, make_optimizer("random"), hub=hub, config=config)
    assert result.best_graph.nodes and closed == [True]


def _inside_a_loop(call):
    async def main():
        with pytest.raises(RolegraphError) as info:
            call()
        return str(info.value)

    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        message = asyncio.run(main())
        gc.collect()
    never_awaited = [w for w in warned if "never awaited" in str(w.message)]
    return message, never_awaited


def test_evaluate_sync_in_a_running_loop_is_one_line(gsm, sim_hub):
    task, items = gsm
    message, never_awaited = _inside_a_loop(lambda: evaluate_sync(_graph("sim/llama-3.2-1b"), task, items,
                                                                  hub=sim_hub))
    assert message == ("evaluate_sync cannot run inside a running event loop (Jupyter, an async app): "
                       "await evaluate(...) instead")
    assert never_awaited == []


def test_run_graph_sync_in_a_running_loop_is_one_line(sim_hub):
    message, never_awaited = _inside_a_loop(lambda: run_graph_sync(_graph("sim/llama-3.2-1b"), "2+2?", sim_hub))
    assert message.startswith("run_graph_sync cannot run inside a running event loop") and "\n" not in message
    assert "await run_graph(...)" in message and never_awaited == []


def test_optimize_in_a_running_loop_is_one_line(gsm, sim_hub):
    task, _ = gsm
    space = SearchSpace(pool=sim_hub.pool, models=("sim/llama-3.2-1b",), budget=None)
    message, never_awaited = _inside_a_loop(lambda: optimize(task, space, hub=sim_hub))
    assert message.startswith("optimize cannot run inside a running event loop") and "\n" not in message
    assert "await optimize_async(...)" in message and never_awaited == []
