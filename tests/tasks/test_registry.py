import doctest

import pytest

import rolegraph.tasks.registry as registry_module
from rolegraph.errors import DataFileError, RolegraphError, TaskError
from rolegraph.items import Item
from rolegraph.tasks import Task, default_registry, get_task, task_names

BUILTIN = {"gsm", "arith", "humaneval", "gsm8k", "math", "hotpotqa", "mmlu", "jsonl"}
FILE_TASKS = {"gsm8k", "math", "hotpotqa", "mmlu", "jsonl"}


class Echo(Task):
    name, family, answer_kind = "echo", "qa", "qa"

    def __init__(self, words: int = 1):
        self.words = words

    def all_items(self):
        return [Item(id=str(i), question=f"say {i}", gold=str(i), family="qa") for i in range(self.words)]

    def score(self, prediction, item):
        return float(prediction == item.gold)


def test_all_builtin_tasks_are_listed():
    assert set(task_names()) == BUILTIN


def test_unknown_name_lists_the_known_tasks():
    with pytest.raises(TaskError) as info:
        get_task("gsm9k")
    message = str(info.value)
    assert "gsm9k" in message and "\n" not in message
    assert all(name in message for name in BUILTIN)


@pytest.mark.parametrize("name", sorted(FILE_TASKS))
def test_file_task_without_data_names_the_flag_and_the_format(name):
    with pytest.raises(RolegraphError) as info:
        get_task(name)
    message = str(info.value)
    assert "--data PATH" in message and "JSON" in message and "\n" not in message


def test_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "test.jsonl"
    with pytest.raises(DataFileError, match="no such file") as info:
        get_task("gsm8k", data=missing)
    assert str(missing) in str(info.value)


def test_builtin_task_refuses_a_data_file(tmp_path):
    with pytest.raises(TaskError, match="drop --data"):
        get_task("arith", data=tmp_path / "x.jsonl")


def test_unknown_option_lists_the_options():
    with pytest.raises(TaskError, match=r"'colour'.*options: size"):
        get_task("arith", colour="red")


def test_options_given_as_text_are_converted_and_checked():
    assert len(get_task("arith", size="7").all_items()) == 7
    with pytest.raises(TaskError, match="integer"):
        get_task("arith", size="many")
    with pytest.raises(TaskError, match=">= 1"):
        get_task("arith", size=0)


def test_registering_on_one_registry_does_not_leak_into_another():
    mine = default_registry()
    mine.register_task("echo", lambda data=None, seed=0, words=1: Echo(int(words)), summary="echo")
    assert "echo" in mine.names()
    assert "echo" not in default_registry().names()
    assert len(get_task("echo", registry=mine, words=3).all_items()) == 3
    with pytest.raises(TaskError, match="unknown task"):
        get_task("echo")


def test_registering_a_name_twice_needs_replace():
    mine = default_registry()
    with pytest.raises(TaskError, match="already registered"):
        mine.register_task("gsm", lambda data=None, seed=0: Echo())
    mine.register_task("gsm", lambda data=None, seed=0: Echo(2), replace=True)
    assert len(mine.get_task("gsm").all_items()) == 2


def test_a_registered_file_task_reports_its_format():
    mine = default_registry()
    mine.register_task("lines", lambda data=None, seed=0: Echo(), data_format="text, one question per line")
    with pytest.raises(TaskError, match="--data PATH: a text, one question per line file"):
        mine.get_task("lines")
    assert ("lines", "", "text, one question per line") in mine.describe()


def test_the_documented_custom_task_example_runs():
    result = doctest.testmod(registry_module)
    assert result.attempted > 0 and result.failed == 0


def test_an_unknown_task_lists_the_known_ones_once():
    with pytest.raises(TaskError) as far:
        get_task("zzzz")
    assert str(far.value).count("arith") == 1 and "gsm8k" in str(far.value)
    with pytest.raises(TaskError) as near:
        get_task("gsm9")
    message = str(near.value)
    assert "Did you mean: gsm" in message and "Known tasks:" in message and message.count("mmlu") == 1


@pytest.mark.parametrize(("name", "source"), [("gsm8k", "reads its items from --data"),
                                              ("humaneval", "has a fixed set of items")])
def test_a_size_for_a_task_that_takes_none_names_task_size_not_an_option_never_typed(name, source, fixtures):
    data = fixtures / "gsm8k_tiny.jsonl" if name == "gsm8k" else None
    with pytest.raises(TaskError) as caught:
        get_task(name, data=data, size=10)
    message = str(caught.value)
    assert f"task '{name}' takes no --task-size" in message and source in message and "--n N" in message
    assert "no option 'size'" not in message
