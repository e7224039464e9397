"""Item evaluations on a local Ray cluster (num_cpus=2) against the local executor: same results, one cache,
one store."""
from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

import pytest

from rolegraph.cli import main
from rolegraph.errors import BudgetExceededError, DataFileError, RolegraphError
from rolegraph.evaluate.executors import LocalExecutor, RayExecutor, make_executor
from rolegraph.evaluate.runner import evaluate
from rolegraph.evaluate.store import ResultsStore
from rolegraph.graphs.budget import Budget
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.cache import ResponseCache
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'rolegraph[ray]')")

CLUSTER_CPUS = 2
GSM_SIZE = 40
N_ITEMS = 20
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "graphs"
VOTE = GraphSpec.model_validate({
    "name": "vote3",
    "nodes": [{"id": "a", "role": "solver", "model": "sim/llama-3.2-3b", "params": {"temperature": 0.7}},
              {"id": "b", "role": "solver", "model": "sim/llama-3.2-1b", "params": {"temperature": 0.7}},
              {"id": "c", "role": "solver", "model": "sim/llama-3.2-3b", "params": {"temperature": 0.7}},
              {"id": "fuse", "role": "fuser", "model": "sim/llama-3.1-8b"}],
    "edges": [["a", "fuse"], ["b", "fuse"], ["c", "fuse"]]})


@pytest.fixture(scope="module")
def cluster():
    """One local Ray instance for the module (starting one takes seconds); executors join it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(num_cpus=CLUSTER_CPUS, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        try:
            yield
        finally:
            ray.shutdown()


@pytest.fixture(scope="module")
def gsm():
    task = get_task("gsm", seed=0, size=GSM_SIZE)
    return task, task.items("all", N_ITEMS, seed=0)


def score(task, items, home: Path, executor=None, **kwargs):
    """(EvalResult, (calls, cached)) on a fresh hub over `home`, saved to home's results store."""

    async def go():
        hub = ModelHub(ModelPool.builtin(), Settings(home=home))
        store = ResultsStore(home / "results.sqlite")
        try:
            result = await evaluate(VOTE, task, items, hub=hub, progress=False, seed=1, store=store,
                                    executor=executor, **kwargs)
            return result, (hub.stats.calls, hub.stats.cached)
        finally:
            store.close()
            await hub.aclose()

    return asyncio.run(go())


def _without_cache_counts(result) -> dict:
    """A result's dump without what says which calls the response cache answered (a rerun's differ)."""
    data = result.model_dump(exclude={"run_id", "cached_calls"})
    for item in data["items"]:
        for usage in item["node_usage"].values():
            usage.pop("cached_calls")
    return data


def same(a, b) -> bool:
    return _without_cache_counts(a) == _without_cache_counts(b)


class UnreadableCorpus:
    """A gsm task whose search corpus cannot be read: the error surfaces on a worker, building its toolbox."""

    def __init__(self, task):
        self._task = task
        self.name, self.family, self.answer_kind, self.skipped = task.name, task.family, task.answer_kind, 0

    def score(self, prediction, item):
        return self._task.score(prediction, item)

    def corpus(self):
        raise DataFileError(f"corpus of '{self.name}' is unreadable")


@pytest.fixture(scope="class")
def executor(cluster):
    """One executor (its worker actors hold the cluster's CPUs) for the tests of a class."""
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import the tests package
    with RayExecutor() as ex:
        yield ex


class TestOneExecutor:
    def test_ray_equals_local_with_one_cache_and_one_store(self, executor, gsm, tmp_path):
        task, items = gsm
        local, (local_calls, local_cached) = score(task, items, tmp_path / "local")
        assert local_cached == 0 and local_calls > len(items)
        progress: list[tuple[int, int]] = []
        first, (calls, cached) = score(task, items, tmp_path / "ray", executor,
                                       on_item=lambda done, total: progress.append((done, total)))
        assert same(first, local) and first.simulated and first.n == N_ITEMS
        assert (calls, cached) == (local_calls, 0)  # workers' calls are counted by the driver's hub
        assert len(executor._actors) == CLUSTER_CPUS  # one worker per CPU of the cluster
        again, (calls2, cached2) = score(task, items, tmp_path / "ray", executor)
        assert same(again, local) and calls2 == cached2 == local_calls  # every call came from the driver's cache
        with ResponseCache(tmp_path / "ray" / "cache.sqlite") as ray_cache, \
                ResponseCache(tmp_path / "local" / "cache.sqlite") as local_cache:
            assert len(ray_cache) == len(local_cache) == local_calls  # the same entries, in the driver's file
        with ResultsStore(tmp_path / "ray" / "results.sqlite") as store:
            stored = store.load(first.run_id)
            assert [r["id"] for r in store.runs()] == [again.run_id, first.run_id]
        assert stored.accuracy == local.accuracy
        assert [i.item_id for i in stored.items] == [i.item_id for i in local.items]
        assert progress[-1] == (N_ITEMS, N_ITEMS) and [d for d, _ in progress] == sorted(d for d, _ in progress)

    def test_budget_stops_and_worker_errors_come_back_as_raised(self, executor, gsm, tmp_path):
        task, items = gsm
        with pytest.raises(BudgetExceededError, match="budget") as info:
            score(task, items, tmp_path / "b", executor, budget=Budget(max_tokens=50))
        partial = info.value.partial
        assert partial.partial and partial.n < N_ITEMS and partial.run_id  # kept, and stored marked partial
        with pytest.raises(DataFileError, match="corpus of 'gsm' is unreadable"):
            score(UnreadableCorpus(task), items, tmp_path / "e", executor)


def test_eval_cli_with_ray_prints_what_local_prints(cluster, capsys, tmp_path):
    def run(*extra: str) -> dict:
        try:
            main(["eval", str(EXAMPLES / "vote5.yaml"), "--task", "gsm", "--n", "12", "--json",
                  "--store", str(tmp_path / "store.sqlite"), *extra])
        except SystemExit as exc:
            assert exc.code == 0
        out = capsys.readouterr().out
        return {k: v for k, v in json.loads(out).items() if k not in ("run_id", "cached_calls")}

    assert run("--executor", "ray") == run()
    assert ray.is_initialized()  # the CLI joined the running instance and left it running


OPTIMIZE = ["optimize", "--task", "gsm", "--task-size", "60", "--iterations", "2", "--samples", "2", "--batch", "4",
            "--validation-items", "4", "--test-items", "6", "--max-nodes", "4", "--json"]


def test_optimize_with_ray_equals_local(cluster, capsys, tmp_path, monkeypatch):
    """The same search through `rolegraph optimize --executor ray`: the same graphs, scores and paid calls."""

    def search(name: str, *extra: str) -> tuple[dict, dict]:
        monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / f"home-{name}"))  # each search pays its own calls
        out = tmp_path / name
        try:
            main([*OPTIMIZE, "--out", str(out), *extra])
        except SystemExit as exc:
            assert exc.code == 0, capsys.readouterr().err
        summary = json.loads(capsys.readouterr().out)
        trace = json.loads((out / "trace.json").read_text())
        assert summary.pop("run_dir") == str(out)
        return summary, trace

    local, local_trace = search("local")
    remote, remote_trace = search("ray", "--executor", "ray")
    assert remote == local and local["paid_calls"] > 0 and local["simulated"]
    assert remote_trace["evaluations"] == local_trace["evaluations"] and remote_trace["final"] == local_trace["final"]


def test_executor_names(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)  # no address to check: make_executor joins nothing yet
    assert isinstance(make_executor("local"), LocalExecutor) and make_executor("local").in_process
    ray_ex = make_executor("ray", workers=3)
    assert isinstance(ray_ex, RayExecutor) and ray_ex.address is None and ray_ex.workers == 3
    ray_ex.close()  # never started: nothing to stop
    assert RayExecutor("ray://head:10001").address == "ray://head:10001"  # the class itself checks at ray.init
    with pytest.raises(RolegraphError, match="unknown executor 'rey'. Did you mean: ray"):
        make_executor("rey")
    with pytest.raises(RolegraphError, match="--ray-address is for --executor ray"):
        make_executor("local", address="auto")
