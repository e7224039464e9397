"""A generated task's size has a named maximum: a typo'd `--task-size 100000000000` is refused in one line (exit 2)
before reasoning-gym is asked for a single item, not left building items for days with no output."""

from __future__ import annotations

import pytest

from rolegraph.errors import TaskError
from rolegraph.tasks import get_task
from rolegraph.tasks.gym import MAX_GYM_SIZE, ArithTask, GsmTask
from tests.cli.support import cli

HUGE = 100_000_000_000
GRAPH = "name: one\nnodes:\n  - {id: out, role: solver, model: sim/llama-3.2-1b}\nedges: []\n"


@pytest.fixture
def built(monkeypatch) -> list[int]:
    """The sizes reasoning-gym was asked to build (nothing is built: a huge one would hang the test, not fail it)."""
    import reasoning_gym

    sizes: list[int] = []

    def record(name, *, seed, size, **config):
        sizes.append(size)
        return []

    monkeypatch.setattr(reasoning_gym, "create_dataset", record)
    return sizes


def test_the_limit_is_generous():
    """A limit users will not hit: far above the default (500) and any split a search reads."""
    assert MAX_GYM_SIZE >= 100_000


@pytest.mark.parametrize("name", ["gsm", "arith"])
@pytest.mark.parametrize("size", [HUGE, str(HUGE), 100_001])
def test_a_size_above_the_limit_is_refused_before_building(name, size, built):
    with pytest.raises(TaskError, match=r"option size=.* should be an integer from 1 to 100000$"):
        get_task(name, size=size)
    assert built == []


@pytest.mark.parametrize("cls", [GsmTask, ArithTask])
def test_the_task_classes_refuse_it_too(cls, built):
    with pytest.raises(TaskError, match="from 1 to 100000"):
        cls(size=HUGE)
    assert built == []


def test_the_limit_itself_is_accepted(built):
    get_task("gsm", size=100_000)
    assert built == [100_000]


def test_eval_refuses_a_huge_task_size_in_one_line(tmp_path, monkeypatch, capsys, built):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROLEGRAPH_POOL", raising=False)
    graph = tmp_path / "g.yaml"
    graph.write_text(GRAPH)
    code, out, err = cli(["eval", graph, "--task", "gsm", "--n", "2", "--task-size", HUGE], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "size=100000000000 should be an integer from 1 to 100000" in err
    assert built == []
