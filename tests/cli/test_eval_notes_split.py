"""What `rolegraph eval` says about the items it scores from a file: the seeded split, an `--n` above the
split, the file's records without a gold (in no split, so not in `skipped`), and `--task-size` on a task
that takes no size; and that `--task-option`'s help names every built-in task's options."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.support import run_cli

SINGLE = str(Path(__file__).resolve().parents[2] / "examples" / "graphs" / "single.yaml")
WITH_GOLD, WITHOUT_GOLD = 40, 10
TEST_SHARE = 0.25  # what docs/tutorials/evaluate.md promises the default split holds


@pytest.fixture
def gsm_file(tmp_path) -> Path:
    path = tmp_path / "gsm.jsonl"
    rows = [{"question": f"What is {i} + 1?", "answer": f"{i} + 1 = {i + 1}\n#### {i + 1}"} for i in range(WITH_GOLD)]
    rows += [{"question": f"What is {i} + 2?", "answer": "worked, but no marker"} for i in range(WITHOUT_GOLD)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _eval(capsys, tmp_path, data, *extra):
    return run_cli(capsys, "eval", SINGLE, "--task", "gsm8k", "--data", data, "--store", tmp_path / "s.sqlite",
                   "--json", *extra)


def test_an_n_above_the_split_says_how_many_it_scores_and_the_records_without_gold(capsys, tmp_path, gsm_file):
    held = int(WITH_GOLD * TEST_SHARE)
    code, out, err = _eval(capsys, tmp_path, gsm_file, "--n", "5000")
    assert code == 0, err
    result = json.loads(out)
    assert result["n"] == held and result["skipped"] == 0  # none of the scored items lacked a gold
    assert f"is {held} of its {WITH_GOLD} items (a fixed hold-out); --split all scores every item" in err
    assert f"has {held} items; scoring {held}, not 5000 (--split all gives more)" in err
    assert f"note: {WITHOUT_GOLD} records of task 'gsm8k' have no usable gold answer; none is scored" in err


def test_a_small_n_still_notes_the_records_without_gold_and_skips_none(capsys, tmp_path, gsm_file):
    code, out, err = _eval(capsys, tmp_path, gsm_file, "--n", "2", "--split", "all")
    assert code == 0, err
    assert (json.loads(out)["n"], json.loads(out)["skipped"]) == (2, 0)
    assert f"{WITHOUT_GOLD} records of task 'gsm8k' have no usable gold answer" in err
    assert "hold-out" not in err and "scoring" not in err


def test_task_size_on_a_file_task_names_the_flag_the_user_typed(capsys, tmp_path, gsm_file):
    code, out, err = _eval(capsys, tmp_path, gsm_file, "--task-size", "10")
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "takes no --task-size" in err and "no option 'size'" not in err


def test_task_option_help_names_every_option_of_every_builtin_task():
    from rolegraph.cli.options import TASK_OPTION_HELP
    from rolegraph.tasks.registry import SIZE_OPTION, default_registry

    registry = default_registry()
    parts = {part.split("for ", 1)[1].split(",")[0]: part for part in TASK_OPTION_HELP.split(";") if "for " in part}
    for name in registry.names():
        for option in registry.entry(name).option_names() or ():
            if option != SIZE_OPTION:  # spelled --task-size
                assert option in parts.get(name, ""), (name, option)
