"""`WarmStart.same_task` when both runs recorded the digest of their items: an option given at its task's default
(the command line's text of it included) is the same as leaving it out; an option that changes how the same items
are scored (family, metric: not in the digest) is not. Runs without a digest keep comparing the options as given."""
from __future__ import annotations

from rolegraph.optimize.warmstart import WarmStart, given_options

DIGEST = "d" * 64


def warm(task_args: dict, task_items: str | None = DIGEST) -> WarmStart:
    return WarmStart("earlier", {"task_args": task_args, "task_items": task_items}, None, [], {})


def test_an_option_at_its_default_is_left_out():
    assert given_options({"name": "jsonl", "seed": 0, "family": "qa", "question_field": "question"}) == {
        "name": "jsonl", "family": "qa"}
    assert given_options({"name": "gsm", "seed": "0", "size": "500"}) == {"name": "gsm"}  # the command line's text
    assert given_options({"name": "gsm", "seed": 5, "size": 80}) == {"name": "gsm", "seed": 5, "size": 80}
    assert given_options({"name": "not-a-task", "seed": 0, "x": 1}) == {"name": "not-a-task", "seed": 0, "x": 1}


def test_with_both_digests_a_default_option_is_the_same_task():
    earlier = warm({"name": "jsonl", "seed": 0, "family": "qa"})
    assert earlier.same_task({"name": "jsonl", "seed": 0, "family": "qa", "question_field": "question"}, DIGEST)
    assert earlier.not_comparable is None
    assert warm({"name": "gsm", "seed": 0}).same_task({"name": "gsm", "seed": 0, "size": 500}, DIGEST)
    other_items = warm({"name": "gsm", "seed": 0})
    assert not other_items.same_task({"name": "gsm", "seed": 0, "size": 500}, "e" * 64)
    assert other_items.not_comparable is not None and "other items of task 'gsm'" in other_items.not_comparable


def test_with_both_digests_a_scoring_option_still_tells_tasks_apart():
    earlier = warm({"name": "jsonl", "seed": 0, "family": "qa"})
    assert not earlier.same_task({"name": "jsonl", "seed": 0, "family": "qa", "metric": "f1"}, DIGEST)
    assert earlier.not_comparable == "the earlier run scored the same task with other options (metric em -> f1)"
    assert not warm({"name": "jsonl", "seed": 0, "family": "qa"}).same_task({"name": "jsonl", "seed": 0}, DIGEST)


def test_without_a_digest_the_options_are_compared_as_given():
    earlier = warm({"name": "jsonl", "seed": 0, "family": "qa"}, task_items=None)
    assert not earlier.same_task({"name": "jsonl", "seed": 0, "family": "qa", "question_field": "question"}, DIGEST)
    assert earlier.not_comparable == "the earlier run scored task 'jsonl' with its options given otherwise"
