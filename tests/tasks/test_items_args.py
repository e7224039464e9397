"""`Task.items` refuses an unknown split and a negative n with one line instead of a KeyError or a wrong slice."""
from __future__ import annotations

import pytest

from rolegraph.errors import TaskError
from rolegraph.tasks.registry import get_task

SIZE = 40


@pytest.fixture(scope="module")
def task():
    return get_task("gsm", seed=0, size=SIZE)


def test_an_unknown_split_names_the_valid_ones(task):
    with pytest.raises(TaskError) as info:
        task.items("tst", n=1)
    message = str(info.value)
    assert "unknown split 'tst'" in message and "\n" not in message
    assert all(s in message for s in ("train", "validation", "test", "all"))


def test_a_negative_n_is_refused(task):
    with pytest.raises(TaskError, match="n must be >= 0"):
        task.items("test", n=-1)


def test_zero_and_none_still_work(task):
    assert task.items("test", n=0) == []
    assert len(task.items("all")) == SIZE and len(task.items("all", n=3)) == 3
