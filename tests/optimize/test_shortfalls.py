"""Too few validation or routing fit items are noted, as too few training and test items were.

`optimize --task gsm --task-size 5` said the training batches and the test set were cut, but not that the top
candidates were re-checked on 1 validation item against --validation-items 48, nor that routing's fit items (the
validation items, then training items) were 3 against the default 288.
"""
from __future__ import annotations

import pytest

from rolegraph.optimize import context
from rolegraph.optimize.context import SearchConfig
from rolegraph.optimize.shortfalls import SplitShortfallWarning, split_shortfalls
from rolegraph.tasks.registry import get_task
from tests.cli.support import cli


@pytest.fixture(scope="module")
def five():
    return get_task("gsm", size=5)


def _sizes(task) -> dict[str, int]:
    return {s: sum(1 for it in task.items(s) if it.gold is not None) for s in ("train", "validation", "test")}


def test_the_premise_a_five_item_task_has_splits_smaller_than_the_defaults(five):
    sizes = _sizes(five)
    assert 0 < sizes["validation"] < 48 and 0 < sizes["validation"] + sizes["train"] < 288, sizes


def test_short_validation_and_fit_items_are_noted(five):
    sizes = _sizes(five)
    notes = split_shortfalls(five, SearchConfig())
    val, fit = sizes["validation"], sizes["validation"] + sizes["train"]
    assert (f"split 'validation' of task 'gsm' has {val} items: the re-check of the top candidates will use at most "
            f"{val}, not --validation-items 48") in notes, notes
    assert (f"splits 'validation' and 'train' of task 'gsm' have {fit} items: routing's fit items will use {fit}, "
            "not 288 (--route-items' default)") in notes, notes
    assert len(notes) == 4 and any("--batch 16" in n for n in notes) and any("--test-items 100" in n for n in notes)


def test_counts_the_splits_can_fill_are_not_noted(five):
    sizes = _sizes(five)
    fits = SearchConfig(batch=sizes["train"], validation_items=sizes["validation"], test_items=sizes["test"],
                        route_items=sizes["validation"] + sizes["train"])
    assert split_shortfalls(five, fits) == []
    assert split_shortfalls(five, SearchConfig(route_items=0, validation_items=1, batch=1, test_items=1)) == []


def test_the_names_are_still_importable_from_context():
    assert context.split_shortfalls is split_shortfalls and context.SplitShortfallWarning is SplitShortfallWarning


def test_the_command_line_notes_them_before_the_run(tmp_path, capsys):
    code, _, err = cli(["optimize", "--task", "gsm", "--task-size", "5", "--iterations", "1", "--samples", "2",
                        "--batch", "2", "--test-items", "2", "--validation-items", "4", "--out", tmp_path / "r"],
                       capsys)
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("note: split")]
    assert len(notes) == 2, err  # train and test fit: only the validation and fit items fall short
    assert "split 'validation' of task 'gsm' has 1 items" in notes[0] and "--validation-items 4" in notes[0]
    assert "splits 'validation' and 'train' of task 'gsm' have 3 items" in notes[1] and "24 (--route-items' default)" in notes[1]


def test_a_default_the_splits_nearly_fill_is_not_noted():
    """The default fit items are a target (twice the re-check's reserve): `rolegraph demo` asks 384 of gsm's 375
    validation and training items and uses them all, which the README's first command should not call a shortfall;
    asked for explicitly, the same count is noted."""
    gsm = get_task("gsm")
    config = SearchConfig(validation_items=96, batch=16)
    assert config.routing_items > 375 >= config.reserve
    assert split_shortfalls(gsm, config) == []
    explicit = split_shortfalls(gsm, SearchConfig(validation_items=96, batch=16, route_items=config.routing_items))
    assert explicit == [f"splits 'validation' and 'train' of task 'gsm' have 375 items: routing's fit items will use "
                        f"375, not --route-items {config.routing_items}"]
