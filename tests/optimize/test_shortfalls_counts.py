"""`split_shortfalls` on a task whose split sizes are set by hand: only items with a gold answer count, a split
that holds exactly what is asked is no shortfall, an empty split is not noted as "0 items", fit items for routing
fall short only of validation and training together, and their default is noted only below one re-check reserve
(every expectation counted from the rule the function's docstring states)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from rolegraph.optimize.shortfalls import split_shortfalls


@dataclass
class Splits:
    """A task with `sizes[split]` gold items per split, and `ungraded` more per split with no gold."""

    sizes: dict[str, int]
    ungraded: int = 0
    name: str = "hand"

    def items(self, split: str, seed: int = 0):
        gold = [SimpleNamespace(id=f"{split}{i}", gold="1") for i in range(self.sizes.get(split, 0))]
        return gold + [SimpleNamespace(id=f"{split}-x{i}", gold=None) for i in range(self.ungraded)]


def _asked(batch=4, validation_items=3, test_items=5, route_items=None, reserve=6, routing_items=None):
    return SimpleNamespace(
        batch=batch,
        validation_items=validation_items,
        test_items=test_items,
        data_seed=0,
        route_items=route_items,
        reserve=reserve,
        routing_items=route_items if route_items is not None else (routing_items or 2 * reserve),
    )


def test_exactly_enough_is_no_shortfall_and_one_short_is():
    task = Splits({"train": 4, "validation": 3, "test": 5})
    assert split_shortfalls(task, _asked(route_items=7)) == []
    notes = split_shortfalls(task, _asked(batch=5, route_items=8))
    assert notes == [
        "split 'train' of task 'hand' has 4 items: training batches will use 4, not --batch 5",
        "splits 'validation' and 'train' of task 'hand' have 7 items: routing's fit items will use 7, not "
        "--route-items 8",
    ]


def test_items_without_a_gold_answer_are_not_counted():
    task = Splits({"train": 4, "validation": 3, "test": 2}, ungraded=10)
    assert split_shortfalls(task, _asked(route_items=7)) == [
        "split 'test' of task 'hand' has 2 items: the test score will use 2, not --test-items 5"
    ]


def test_routing_fit_items_fall_short_only_of_both_splits_together():
    task = Splits({"train": 10, "validation": 3, "test": 5})  # validation alone is short of 8, with train it is not
    assert split_shortfalls(task, _asked(route_items=8)) == []
    assert split_shortfalls(task, _asked(route_items=14)) == [
        "splits 'validation' and 'train' of task 'hand' have 13 items: routing's fit items will use 13, not "
        "--route-items 14"
    ]


def test_the_default_fit_items_are_noted_only_below_one_reserve():
    at_reserve = Splits({"train": 3, "validation": 3, "test": 5})  # 6 fit items: one reserve of 6, short of 12
    assert split_shortfalls(at_reserve, _asked(batch=3, reserve=6)) == []
    below = Splits({"train": 2, "validation": 3, "test": 5})  # 5: below the reserve
    assert split_shortfalls(below, _asked(batch=2, reserve=6)) == [
        "splits 'validation' and 'train' of task 'hand' have 5 items: routing's fit items will use 5, not "
        "12 (--route-items' default)"
    ]


def test_an_empty_split_is_not_noted_as_a_shortfall():
    task = Splits({"train": 4, "validation": 3, "test": 0})
    assert split_shortfalls(task, _asked(route_items=7)) == []
