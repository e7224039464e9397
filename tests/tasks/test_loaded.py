from rolegraph.items import Item
from rolegraph.tasks.loaded import LoadedTask


class Fixed(LoadedTask):
    name = "fixed"

    def __init__(self, items):
        self._set_items(items)

    def score(self, prediction, item):
        return float(prediction == item.gold)


def test_items_without_gold_are_counted_not_kept():
    task = Fixed([Item(id="a", question="q", gold="1"), Item(id="b", question="q", gold=None),
                  Item(id="c", question="q", gold="  ")])
    assert [i.id for i in task.all_items()] == ["a"]
    assert task.skipped == 2 and task.skipped_ids == ("b", "c")


def test_repeated_ids_are_made_unique():
    task = Fixed([Item(id="x", question="q1", gold="1"), Item(id="x", question="q2", gold="2"),
                  Item(id="x", question="q3", gold="3")])
    assert [i.id for i in task.all_items()] == ["x", "x#2", "x#3"]


def test_splits_partition_the_items_and_follow_the_seed():
    task = Fixed([Item(id=str(i), question="q", gold="1") for i in range(40)])
    parts = [task.items(split, seed=1) for split in ("train", "validation", "test")]
    ids = [i.id for part in parts for i in part]
    assert sorted(ids) == sorted(str(i) for i in range(40)) and len(set(ids)) == 40
    assert [i.id for i in task.items("test", seed=1)] == [i.id for i in task.items("test", seed=1)]
    assert [i.id for i in task.items("test", seed=1)] != [i.id for i in task.items("test", seed=2)]
    assert len(task.items("train", n=3, seed=1)) == 3
