"""A search space's family prices every graph: an unknown one, or one that is not the task's, is refused."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.errors import SearchError
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.api import make_optimizer, optimize_async
from rolegraph.optimize.space import SearchSpace
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task
from tests.optimize.qa_fixture import write_qa_fixture

MODELS = ("sim/llama-3.2-1b", "sim/llama-3.2-3b")


@pytest.fixture(scope="module")
def pool() -> ModelPool:
    return ModelPool.builtin()


def test_an_unknown_family_is_refused_naming_the_known_ones(pool):
    with pytest.raises(SearchError) as info:
        SearchSpace(pool=pool, models=MODELS, family="qa-long")
    message = str(info.value)
    assert "unknown task family 'qa-long'" in message and "\n" not in message
    assert all(f in message for f in ("math", "mmlu", "code", "qa"))


def test_families_price_the_same_graph_differently(pool):
    """Why the check matters: the default (math) profile would price a qa graph wrongly."""
    math, qa = SearchSpace(pool=pool, models=MODELS), SearchSpace(pool=pool, models=MODELS, family="qa")
    graph = math.single("sim/llama-3.2-3b")
    assert math.flops(graph) != pytest.approx(qa.flops(graph))


def test_optimize_refuses_a_space_of_another_family_before_anything_runs(pool, tmp_path):
    task = get_task("hotpotqa", data=write_qa_fixture(tmp_path / "qa.json"))
    space = SearchSpace(pool=pool, models=MODELS)  # family left at its default, math
    hub = ModelHub(pool, Settings(home=tmp_path / "h"))
    out = tmp_path / "run"

    async def go():
        try:
            return await optimize_async(task, space, make_optimizer("random"), hub=hub, out=out)
        finally:
            await hub.aclose()

    with pytest.raises(SearchError) as info:
        asyncio.run(go())
    message = str(info.value)
    assert "family 'math'" in message and "'qa'" in message and "family='qa'" in message and "\n" not in message
    assert hub.stats.calls == 0 and not out.exists()  # refused before a call was made or a run directory written
