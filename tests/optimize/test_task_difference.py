"""A warm start that refuses an earlier run's evidence says what differs between the two runs' tasks
(`task_difference`, through `WarmStart.same_task`): "another task or data" was the line for all of them, also for
the same task at another `--task-size`, where the user had changed one number."""

from __future__ import annotations

import json

from rolegraph.optimize.warmstart import WarmStart


def warm(task_args: dict, task_items: str | None = None, inputs: dict | None = None) -> WarmStart:
    return WarmStart("earlier", {"task_args": task_args, "task_items": task_items}, None, [], {}, inputs=inputs)


def test_the_same_task_at_another_size_names_both_sizes():
    earlier = warm({"name": "gsm", "seed": 0, "size": 80, "data": None}, "a" * 64)
    assert not earlier.same_task({"name": "gsm", "seed": 0, "size": 40, "data": None}, "b" * 64)
    assert earlier.not_comparable == "the earlier run scored the same task at another size (80 -> 40 items)"


def test_a_size_left_out_is_the_task_default():
    # the CLI records no size when --task-size is not given: gsm's factory makes 500 items then
    earlier = warm({"name": "gsm", "seed": 0}, "a" * 64)
    assert not earlier.same_task({"name": "gsm", "seed": 0, "size": 40}, "b" * 64)
    assert earlier.not_comparable == "the earlier run scored the same task at another size (500 -> 40 items)"


def test_another_task_is_named_with_both_names():
    earlier = warm({"name": "gsm", "seed": 0})
    assert not earlier.same_task({"name": "arith", "seed": 0})
    assert earlier.not_comparable == "the earlier run scored another task ('gsm'; this search: 'arith')"


def test_other_options_are_listed_with_their_values_then_and_now():
    earlier = warm({"name": "gsm", "seed": 0, "size": 80})
    assert not earlier.same_task({"name": "gsm", "seed": 5, "size": 40})
    said = "the earlier run scored the same task with other options (seed 0 -> 5, size 80 -> 40)"
    assert earlier.not_comparable == said


def test_a_data_file_on_one_side_only_is_named(tmp_path):
    earlier = warm({"name": "jsonl", "seed": 0, "family": "qa", "data": "/runs/old/questions.jsonl"})
    assert not earlier.same_task({"name": "jsonl", "seed": 0, "family": "qa"})
    assert earlier.not_comparable == (
        "the earlier run scored task 'jsonl' with the data file questions.jsonl (this search: none)"
    )


def test_another_data_file_is_named(tmp_path):
    now = tmp_path / "new.jsonl"
    now.write_text(json.dumps({"question": "1 + 1?", "answer": "2"}) + "\n")
    then = tmp_path / "old.jsonl"
    inputs = {"data": {"path": str(then), "sha256": "0" * 64}}
    earlier = warm({"name": "jsonl", "seed": 0, "data": str(then)}, inputs=inputs)
    assert not earlier.same_task({"name": "jsonl", "seed": 0, "data": str(now)})
    assert earlier.not_comparable == "the earlier run scored another data file (old.jsonl; this search: new.jsonl)"
