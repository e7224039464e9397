"""`--init-from` with a task option given at its default (`question_field=question`) carries the earlier run's
evidence: the same items (the digest both runs recorded) scored the same way. An option that changes how the same
items are scored (metric=f1) still refuses it."""
from __future__ import annotations

import json
from pathlib import Path

from tests.cli.support import cli

DATA = Path(__file__).resolve().parents[2] / "examples" / "data" / "factoid_wiki.jsonl"
TINY = ["--task", "jsonl", "--data", DATA, "--task-option", "family=qa", "--optimizer", "random", "--iterations",
        "1", "--samples", "2", "--batch", "2", "--validation-items", "2", "--test-items", "2", "--route-items", "0",
        "--json"]


def test_an_option_at_its_default_is_the_same_task_and_another_metric_is_not(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    code, _, err = cli(["optimize", *TINY, "--out", tmp_path / "ia"], capsys)
    assert code == 0, err
    code, out, err = cli(["optimize", *TINY, "--task-option", "question_field=question", "--init-from",
                          tmp_path / "ia", "--out", tmp_path / "ib"], capsys)
    assert code == 0, err
    warm = json.loads(out)["warm_start"]
    assert not any("not imported" in line for line in warm["not_carried"]), warm
    assert warm["carried"].startswith(f"warm start from {tmp_path / 'ia'}: 2 evaluations"), warm
    code, out, err = cli(["optimize", *TINY, "--task-option", "metric=f1", "--init-from", tmp_path / "ia", "--out",
                          tmp_path / "ic"], capsys)
    assert code == 0, err
    warm = json.loads(out)["warm_start"]
    assert (
        "the earlier run scored the same task with other options (metric em -> f1): its evidence is not imported"
        in warm["not_carried"]
    ), warm
    assert " 0 evaluations" in warm["carried"]
