"""`check_startable` makes the space allow for the task's own longest question (not the default allowance), and a
task whose questions leave no graph inside a model's context window is refused in one line before any run directory
is made, so there is no run to `--resume` into the same failure."""
from __future__ import annotations

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import SearchError
from rolegraph.items import Item
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.space_context import QUESTION_ALLOWANCE_TOKENS
from rolegraph.tasks.base import Task

from .helpers import run, tiny_config

SMALL = "real/small"


def _pool(window: int) -> ModelPool:
    spec = ModelSpec(id=SMALL, backend="openai", base_url="http://127.0.0.1:9/v1", model="small", params_b=0.135,
                     layers=30, hidden=576, context_window=window)
    return ModelPool([*ModelPool.builtin(), spec])


class Long(Task):
    """Forty math items whose questions are `words` words long."""

    name = "long"

    def __init__(self, words: int):
        self.words = words

    def all_items(self) -> list[Item]:
        return [Item(id=f"q{i}", question=("word " * self.words) + f"{i}?", gold=str(i)) for i in range(40)]

    def score(self, prediction, item) -> float:
        return float(prediction == item.gold)


def _task(words: int) -> Long:
    return Long(words)


def test_a_task_too_long_for_the_window_is_refused_before_a_run_exists(tmp_path):
    """A 2048 window fits one solver (1024 tokens) with the default 256-token question allowance, but not with
    questions of ~1500 words: the start is refused, naming the model and its window, and no run directory is left."""
    pool = _pool(2048)
    space = SearchSpace(pool=pool, models=(SMALL,), roles=("solver", "fuser"), budget=None)
    assert space.models == (SMALL,)
    out = tmp_path / "run"
    with pytest.raises(SearchError) as caught:
        run(pool, tmp_path / "home", _task(1500), space=space, config=tiny_config(), out=out)
    msg = str(caught.value)
    assert "\n" not in msg and SMALL in msg and "context window 2048" in msg
    assert not out.exists()


def test_the_space_adopts_the_task_s_question_length(tmp_path):
    pool = ModelPool.builtin()
    space = SearchSpace(pool=pool, models=("sim/llama-3.2-1b",), roles=("solver", "fuser"), budget=None)
    result = run(pool, tmp_path / "home", _task(600), space=space, config=tiny_config(iterations=1),
                 out=tmp_path / "run")
    assert result.run_dir
    # ~600 words, each at least one token: far above the default allowance, and stored for a resume
    assert space.question_tokens >= 600 > QUESTION_ALLOWANCE_TOKENS


def test_a_model_left_out_for_the_task_s_questions_is_said(tmp_path):
    """Two windows: 2048 holds one solver with short questions but not with ~1500-word ones, 32768 holds both. The
    search goes on with the larger model and warns that the smaller one was left out, naming its window."""
    from rolegraph.models.hub import ModelHub
    from rolegraph.optimize.api import make_optimizer
    from rolegraph.optimize.context import SearchContext
    from rolegraph.optimize.run_setup import check_startable
    from rolegraph.optimize.space_context import ContextWindowWarning
    from rolegraph.settings import Settings

    big = ModelSpec(id="real/big", backend="openai", base_url="http://127.0.0.1:9/v1", model="big", params_b=1.0,
                    context_window=32768)
    pool = ModelPool([*_pool(2048), big])
    space = SearchSpace(pool=pool, models=(SMALL, "real/big"), roles=("solver", "fuser"), budget=None)
    assert space.models == (SMALL, "real/big")
    hub = ModelHub(pool, Settings(home=tmp_path / "home"))
    ctx = SearchContext(task=_task(1500), space=space, hub=hub, config=tiny_config())
    with pytest.warns(ContextWindowWarning, match=r"left out of the search: real/small \(2048\)"):
        check_startable(ctx, make_optimizer("random"))
    assert space.models == ("real/big",) and space.window_excluded == (SMALL,)


def test_the_report_names_a_model_left_out_for_its_window(tmp_path, monkeypatch):
    """The left-out model is stored with the run and named in report.md's setup, not listed as searched."""
    import asyncio

    from rolegraph.models.hub import ModelHub
    from rolegraph.optimize.api import optimize_async
    from rolegraph.optimize.rundir import RunStore
    from rolegraph.reports import render
    from rolegraph.settings import Settings

    pool = ModelPool([*ModelPool.builtin(), _pool(2048).get(SMALL)])
    space = SearchSpace(pool=pool, models=(SMALL, "sim/llama-3.2-1b"), roles=("solver", "fuser"), budget=None)
    hub = ModelHub(pool, Settings(home=tmp_path / "home"))
    # the real model is left out before any call, so the search runs on the sim alone: the mixed-pool refusal (a
    # sim answer reaching a real node) has nothing to guard here and would refuse the space before the window does
    monkeypatch.setattr("rolegraph.optimize.api.refuse_mixed_search", lambda *a: None)
    with pytest.warns(Warning):
        asyncio.run(optimize_async(_task(1500), space, hub=hub, config=tiny_config(iterations=1),
                                   out=tmp_path / "run"))
    store = RunStore.open(tmp_path / "run")
    assert store.config()["space"]["window_excluded"] == [SMALL]
    store.close()
    render(tmp_path / "run")
    setup = next(line for line in (tmp_path / "run" / "report.md").read_text().splitlines() if "- space:" in line)
    assert "left out, one node exceeds its context window: real/small" in setup
    assert setup.split(";")[0].split("(")[0].strip() == "- space: models sim/llama-3.2-1b"
