"""An evaluation from Python in which every item failed (nothing listening at the pool's endpoint) raises the project's
one-line error naming the first failure, as `rolegraph eval` exits 2 on it, instead of returning an accuracy of 0.0
with a confidence interval that a script would read as a measured 0%. Some items failing is still returned (counted
in `failures`, summed up by `failure_line()`), and the CLI's output is unchanged."""
from __future__ import annotations

import asyncio
import contextlib
import io
import socket

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import Completion, Usage
from rolegraph.errors import RolegraphError
from rolegraph.evaluate import ItemsFailedError
from rolegraph.evaluate.runner import evaluate, evaluate_sync
from rolegraph.evaluate.store import ResultsStore
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task

DEAD = "dead/m"
ITEMS = 3


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dead_url() -> str:
    return f"http://127.0.0.1:{closed_port()}/v1"


@pytest.fixture
def dead_pool(dead_url) -> ModelPool:
    spec = ModelSpec(id=DEAD, backend="openai", base_url=dead_url, model="m", max_retries=0, timeout_s=3,
                     price_in=50, price_out=100)
    return ModelPool([*ModelPool.builtin(), spec])


@pytest.fixture
def arith():
    task = get_task("arith", size=40)
    return task, task.items("test", n=ITEMS)


def one_node(model: str, name: str = "dead") -> GraphSpec:
    return GraphSpec.model_validate({"name": name, "nodes": [{"id": "a", "role": "solver", "model": model}]})


def check_refusal(exc: ItemsFailedError) -> None:
    message = str(exc)
    assert isinstance(exc, RolegraphError) and "\n" not in message
    assert message.startswith(f"graph 'dead': {ITEMS} of {ITEMS} items failed; first failure: ")
    assert "connection refused" in message and DEAD in message
    assert exc.result.n == exc.result.failures == ITEMS  # the result is still there for a caller that wants it


def test_evaluate_sync_raises_when_every_item_failed(dead_pool, arith, tmp_path):
    task, items = arith
    hub = ModelHub(dead_pool, Settings(home=tmp_path / "h"))
    with ResultsStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(ItemsFailedError) as info:
            evaluate_sync(one_node(DEAD), task, items, hub=hub, progress=False, store=store)
        check_refusal(info.value)
        # stored as before (`rolegraph results` shows it as n/a), under the id the error's result carries
        assert info.value.result.run_id is not None
        assert [r["failures"] for r in store.runs()] == [ITEMS]


def test_evaluate_raises_too(dead_pool, arith, tmp_path):
    task, items = arith

    async def go():
        hub = ModelHub(dead_pool, Settings(home=tmp_path / "h"))
        try:
            return await evaluate(one_node(DEAD), task, items, hub=hub, progress=False)
        finally:
            await hub.aclose()

    with pytest.raises(ItemsFailedError) as info:
        asyncio.run(go())
    check_refusal(info.value)


def test_a_caller_that_reports_failures_itself_gets_the_result(dead_pool, arith, tmp_path):
    task, items = arith
    hub = ModelHub(dead_pool, Settings(home=tmp_path / "h"))
    result = evaluate_sync(one_node(DEAD), task, items, hub=hub, progress=False, raise_on_all_failed=False)
    assert result.every_failed and result.failures == ITEMS
    assert result.failure_line().startswith(f"graph 'dead': {ITEMS} of {ITEMS} items failed; first failure: ")


class FailsOnce:
    """Answers every question but the first it is asked (a node failure on one item only)."""

    model_id = "sim/llama-3.2-1b"

    def __init__(self):
        self.asked = 0

    async def complete(self, messages, **kwargs):
        self.asked += 1
        if self.asked == 1:
            raise RuntimeError("upstream hiccup")
        return Completion(text="Final answer: 7", usage=Usage(input_tokens=1, output_tokens=1), latency_s=0.0,
                          model_id=self.model_id)


def test_some_items_failing_is_returned_as_before(arith, tmp_path):
    task, items = arith
    hub = ModelHub(ModelPool.builtin(), Settings(home=tmp_path / "h", cache=False))
    hub.use("sim/llama-3.2-1b", FailsOnce())
    result = evaluate_sync(one_node("sim/llama-3.2-1b", "some"), task, items, hub=hub, progress=False,
                           concurrency=1)
    assert result.n == ITEMS and result.failures == 1 and not result.every_failed
    line = result.failure_line()
    assert line.startswith(f"graph 'some': 1 of {ITEMS} items failed; first failure: ") and "upstream hiccup" in line


def test_the_cli_still_prints_its_table_and_exits_2_with_the_same_line(dead_url, tmp_path, monkeypatch):
    from rolegraph.cli import main

    pool_file = tmp_path / "pool.yaml"
    pool_file.write_text(f"models:\n  - {{id: {DEAD}, backend: openai, base_url: '{dead_url}', model: m, "
                         "max_retries: 0, timeout_s: 3}\n")
    graph = tmp_path / "dead.yaml"
    graph.write_text(f"name: dead\nnodes:\n  - {{id: a, role: solver, model: {DEAD}}}\n")
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "cli-home"))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as info:
        main(["eval", str(graph), "--task", "arith", "--task-size", "40", "--n", str(ITEMS), "--pool",
              str(pool_file)])
    assert info.value.code == 2 and "Traceback" not in err.getvalue()
    assert "all: no accuracy or latency" in out.getvalue()  # the table, printed before the error
    errors = [line for line in err.getvalue().splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith(f"error: graph 'dead': {ITEMS} of {ITEMS} items failed; first failure: ")
