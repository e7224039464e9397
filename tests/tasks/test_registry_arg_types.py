"""`get_task` from Python with a wrongly typed name, seed or data: one-line TaskError, not a TypeError from
difflib or from inside the task's generator."""
from __future__ import annotations

import pytest

from rolegraph.errors import TaskError
from rolegraph.tasks import default_registry, get_task


@pytest.mark.parametrize("name", [None, 5, ["gsm"]])
def test_a_non_string_task_name_names_the_argument_and_the_tasks(name):
    with pytest.raises(TaskError) as err:
        default_registry().get_task(name)
    assert "a task name is a string" in str(err.value) and "gsm, gsm8k" in str(err.value)


@pytest.mark.parametrize("seed", ["x", "3", 1.5, None, True])
def test_a_seed_that_is_not_an_integer_is_refused(seed):
    with pytest.raises(TaskError, match="seed must be an integer"):
        get_task("gsm", seed=seed, size=2)


def test_a_data_argument_that_is_not_a_path_is_refused():
    with pytest.raises(TaskError, match="data must be a path"):
        get_task("gsm8k", data=5)


def test_an_integer_seed_still_builds_the_task():
    assert len(get_task("gsm", seed=3, size=2).items()) == 2
