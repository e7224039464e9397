"""The frozen heap of an evaluation: frozen inside, restored after, and never taking over someone else's freeze."""
from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from rolegraph.evaluate.heap import frozen_heap, on_frozen_heap
from rolegraph.evaluate.runner import FREEZE_MIN_ITEMS, evaluate
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task


@pytest.fixture(autouse=True)
def _clean_collector():
    """Each test starts and ends with an unfrozen heap and the collector on, whatever it does in between."""
    gc.unfreeze()
    gc.enable()
    yield
    gc.unfreeze()
    gc.enable()


def test_freezes_for_the_block_and_unfreezes_after():
    kept = [object() for _ in range(10)]  # noqa: F841 - tracked objects that exist on entry
    with frozen_heap() as froze:
        assert froze is True
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


class _Node:
    """A reference cycle: freed only by the cyclic collector, never by reference counts."""

    def __init__(self) -> None:
        self.me = self


def test_the_blocks_own_cyclic_garbage_is_freed_on_exit():
    gc.collect()
    thresholds = gc.get_threshold()
    gc.set_threshold(10**9)  # no automatic collection: only the exit's can free the cycle
    try:
        with frozen_heap():
            dead = weakref.ref(_Node())
            assert dead() is not None
        assert dead() is None
    finally:
        gc.set_threshold(*thresholds)


def test_the_old_heap_is_skipped_inside_the_block():
    gc.collect()
    old = _Node()
    old_ref = weakref.ref(old)
    with frozen_heap():
        del old
        gc.collect()  # a full collection inside the block does not reach the frozen heap
        assert old_ref() is not None
    gc.collect()
    assert old_ref() is None  # thawed on exit, then freed


def test_a_coroutine_function_runs_on_a_frozen_heap_when_worth_it():
    @on_frozen_heap(lambda x: x > 2)
    async def inside(x: int) -> tuple[int, int]:
        return x, gc.get_freeze_count()

    assert inside.__name__ == "inside"
    value, frozen = asyncio.run(inside(3))
    assert value == 3 and frozen > 0
    assert asyncio.run(inside(1)) == (1, 0)
    assert gc.get_freeze_count() == 0


def test_unfreezes_when_the_block_raises():
    with pytest.raises(RuntimeError), frozen_heap():
        raise RuntimeError("boom")
    assert gc.get_freeze_count() == 0


def test_an_existing_freeze_is_left_to_its_owner(monkeypatch):
    gc.freeze()
    owned = gc.get_freeze_count()
    real = gc.get_freeze_count
    asked: list[int] = []
    monkeypatch.setattr(gc, "get_freeze_count", lambda: asked.append(1) or real())
    with frozen_heap() as froze:
        with frozen_heap() as inner:
            pass
    assert (froze, inner) == (False, False)
    assert len(asked) == 1  # the inner block knew without asking
    assert real() > owned // 2  # still frozen (a thaw empties it; a few frozen objects may have been freed)


def test_nested_blocks_unfreeze_once_at_the_outer_exit():
    with frozen_heap() as outer:
        with frozen_heap() as inner:
            assert (outer, inner) == (True, False)
        assert gc.get_freeze_count() > 0  # the inner exit did not thaw the outer's heap
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("pauses", [(0.05, 0.0), (0.0, 0.05)])
def test_sibling_blocks_in_concurrent_tasks_freeze_once_and_thaw_at_the_end(pauses):
    """Two evaluations side by side (asyncio.gather): the first freezes, the second finds that freeze and
    leaves it alone; once both are done the heap is thawed, whichever finished first."""
    froze: list[bool] = []

    async def block(pause: float) -> None:
        with frozen_heap() as mine:
            froze.append(mine)
            await asyncio.sleep(pause)

    async def both() -> None:
        await asyncio.gather(*(block(p) for p in pauses))

    asyncio.run(both())
    assert sorted(froze) == [False, True]
    assert gc.get_freeze_count() == 0


def test_a_disabled_collector_is_left_alone():
    gc.disable()
    with frozen_heap() as froze:
        assert froze is False
        assert gc.get_freeze_count() == 0
    assert not gc.isenabled()


def _evaluate_watching_the_heap(tmp_path, n: int) -> tuple[int, list[int]]:
    """Evaluate a one-solver sim graph on `n` items; the freeze count seen after each item, then the result's n."""
    task = get_task("gsm", seed=0, size=n + 20)
    items = task.items("all", n, seed=0)
    spec = GraphSpec.model_validate({"name": "one", "nodes": [{"id": "s", "role": "solver",
                                                                "model": "sim/llama-3.2-1b"}]})
    frozen_during: list[int] = []

    async def go():
        hub = ModelHub(ModelPool.builtin(), Settings(home=tmp_path / "h", cache=False))
        try:
            return await evaluate(spec, task, items, hub=hub, progress=False,
                                  on_item=lambda d, t: frozen_during.append(gc.get_freeze_count()))
        finally:
            await hub.aclose()

    return asyncio.run(go()).n, frozen_during


def test_an_evaluation_of_many_items_runs_on_a_frozen_heap_and_thaws_it(tmp_path):
    n, frozen_during = _evaluate_watching_the_heap(tmp_path, FREEZE_MIN_ITEMS)
    assert n == FREEZE_MIN_ITEMS
    assert len(frozen_during) == FREEZE_MIN_ITEMS and all(c > 0 for c in frozen_during)
    assert gc.get_freeze_count() == 0


def test_a_small_evaluation_leaves_the_collector_alone(tmp_path):
    n, frozen_during = _evaluate_watching_the_heap(tmp_path, 4)
    assert n == 4 and frozen_during == [0, 0, 0, 0]


def test_an_inner_block_does_not_ask_the_collector(monkeypatch):
    """Asking (`gc.get_freeze_count`) walks the frozen heap: the outer block asks once, inner ones and the
    tasks started inside know from the context variable."""
    real = gc.get_freeze_count
    asked: list[int] = []
    monkeypatch.setattr(gc, "get_freeze_count", lambda: asked.append(1) or real())

    async def inner() -> bool:
        with frozen_heap() as froze:
            return froze

    with frozen_heap() as outer:
        nested = asyncio.run(inner())  # a new loop's task copies this context
        with frozen_heap() as direct:
            pass
    assert (outer, nested, direct) == (True, False, False)
    assert len(asked) == 1
