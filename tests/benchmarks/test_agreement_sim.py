"""agreement_sim's counting on hand-written votes. Per share k/5 a tied top count (2-2-1) is no majority, as in its
real twins (`agreement_real`, `routing`'s real section), whatever the first sample said; a clear 3-1-1 majority is
one. The majority-of-five accuracy is self-consistency's plurality vote, which must answer: a tie goes to the
tied answer sampled first."""
from __future__ import annotations

import json

import pytest

from benchmarks import agreement_sim
from benchmarks import graphgen as gg

GOLD = "G"  # stands for the item's gold answer in the plans below; W1, W2 are wrong answers
PLANS = [
    [GOLD, GOLD, "W1", "W1", "W2"],  # 2-2-1 tie, the first sample right: no majority, so not right
    ["W1", GOLD, GOLD, "W1", "W2"],  # 2-2-1 tie, the first sample wrong: not right
    [GOLD, GOLD, GOLD, "W1", "W2"],  # 3-1-1: the majority, right
    ["W1", "W1", "W1", GOLD, "W2"],  # 3-1-1: the majority, wrong
]


class Votes:
    """A stand-in for SimExecutor: each item in turn gets one plan's five answers (GOLD replaced by its gold)."""

    def __init__(self, plans: list[list[str]]):
        self.plans = iter(plans)

    def answers(self, spec, item, kind):
        plan = next(self.plans)
        return {f"s{i}": item.gold if a == GOLD else a for i, a in enumerate(plan)}


def test_a_two_two_one_tie_is_no_majority_and_three_one_one_is():
    row = agreement_sim.measure(Votes(PLANS), "math", gg.MODEL_8B, len(PLANS))
    assert row["majority"] == pytest.approx(2 / 4)  # the plurality: the first tie (GOLD sampled first) and the 3-1-1
    assert row["single"] == pytest.approx(2 / 4)
    assert row["by_share"][2] == {"items": 0.5, "majority_right": 0.0, "tied": 0.5}
    assert row["by_share"][3] == {"items": 0.5, "majority_right": 0.5, "tied": 0.0}


def test_unanswered_samples_vote_for_nothing():
    # three unanswered, then one right and one wrong: a 1-1 tie among the answers, not a majority of "no answer"
    row = agreement_sim.measure(Votes([["", "", "", GOLD, "W1"]]), "mmlu", gg.MODEL_8B, 1)
    assert row["majority"] == 1.0  # the plurality: GOLD is the tied answer sampled first
    assert row["by_share"] == {1: {"items": 1.0, "majority_right": 0.0, "tied": 1.0}}


def test_the_plurality_breaks_a_tie_by_the_tied_answer_sampled_first_not_by_the_first_sample():
    # the first sample is W2, outside the 2-2 tie between GOLD (sampled second) and W1 (sampled third)
    row = agreement_sim.measure(Votes([["W2", GOLD, "W1", "W1", GOLD]]), "math", gg.MODEL_8B, 1)
    assert row["majority"] == 1.0
    assert row["by_share"] == {2: {"items": 1.0, "majority_right": 0.0, "tied": 1.0}}


def test_a_run_on_another_world_writes_files_of_its_own(tmp_path, monkeypatch):
    # `--world 3` wrote agreement_sim.json over the calibrated world's
    monkeypatch.setattr(agreement_sim, "measure", lambda ex, family, model, n: _row(family, model))
    for world in (None, 3):
        agreement_sim.run(quick=True, out_dir=tmp_path, world=world)
    written = sorted(p.name for p in tmp_path.glob("*.json"))
    assert written == ["agreement_sim-quick.json", "agreement_sim-w3-quick.json"]
    assert json.loads((tmp_path / "agreement_sim-w3-quick.json").read_text())["world"] == 3


def _row(family: str, model: str) -> dict:
    """A measured row as `measure` returns it (its figures do not matter here)."""
    return {"family": family, "model": model, "single": 0.5, "majority": 0.5,
            "unanimous": dict.fromkeys((2, 3, 5), 0.5), "right_if_two_agree": 0.5, "right_if_two_split": 0.5,
            "by_share": {}}
