"""A split too small for what the search asked is said from Python too (a `SplitShortfallWarning`, as the CLI
notes it), and the CLI, which prints its own note first, does not say it a second time."""
from __future__ import annotations

import warnings

import pytest

from rolegraph.optimize.context import SplitShortfallWarning

from .helpers import run, tiny_config

TEST_SPLIT = 20  # gsm at size 80: 40 train, 20 validation, 20 test items


def test_a_short_test_split_is_warned_about_from_python(pool, small_task, tmp_path):
    with pytest.warns(SplitShortfallWarning, match=f"split 'test' of task 'gsm' has {TEST_SPLIT} items: the test "
                                                   f"score will use {TEST_SPLIT}, not --test-items 500"):
        result = run(pool, tmp_path / "home", small_task, "random", config=tiny_config(test_items=500))
    assert result.test.n == TEST_SPLIT  # what the warning is about


def test_a_search_whose_splits_suffice_says_nothing(pool, small_task, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", SplitShortfallWarning)
        run(pool, tmp_path / "home", small_task, "random", config=tiny_config())


def test_after_the_cli_printed_its_notes_the_warning_is_not_shown_again(pool, small_task, tmp_path, capsys):
    from rolegraph.cli.optimize_checks import print_split_notes

    config = tiny_config(test_items=500)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        print_split_notes(config, small_task)
        run(pool, tmp_path / "home", small_task, "random", config=config)
    assert capsys.readouterr().err.count("split 'test' of task 'gsm' has 20 items") == 1
    assert not [w for w in caught if issubclass(w.category, SplitShortfallWarning)]
