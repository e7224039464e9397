"""A plurality stage's own arithmetic, with voters whose runs are set by hand: the most common answer wins (case,
spacing and a number's form ignored), spoken by the first voter giving it; a tie goes to the answer given first;
no parsable answer at all gives none; the stage's result counts what every voter spent (tokens, dollars and FLOPs
summed, the latencies of voters run side by side their longest), and a voter's failure carries what all of them
spent. The stage's compiled graph is replaced by stand-in voters: what is under test is `PluralityStage.run`."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from rolegraph.errors import BudgetExceededError
from rolegraph.graphs.nodes import StageInput
from rolegraph.graphs.result import RunResult
from rolegraph.graphs.router_vote import PluralityStage
from rolegraph.models.provenance import REAL


class Voter:
    """A stand-in for one voter's compiled graph: `run` returns `result`, or raises `error`."""

    def __init__(self, result: RunResult | None = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.plans, self.given = result, error, {}, None

    async def run(self, item, *, seed, answer_kind, stage, coalescer):
        self.given = stage.given
        await asyncio.sleep(0)
        if self.error is not None:
            raise self.error
        return self.result


def _voter(node: str, answer: str | None, **spent) -> Voter:
    return Voter(RunResult(graph_name=f"part-{node}", answer=answer, output_node=node, **spent))


def _stage(voters: list[Voter]) -> PluralityStage:
    stage = PluralityStage.__new__(PluralityStage)  # no graph compiled: the voters are set by hand
    stage.graph = SimpleNamespace(spec=SimpleNamespace(name="vote5"))
    stage.parts, stage.groups, stage.configured_simulation = voters, {}, REAL
    return stage


def _run(stage: PluralityStage) -> RunResult:
    return asyncio.run(stage.run("q", seed=0, answer_kind=None, stage_in=StageInput(None, {}, 0.0)))


def test_the_most_common_answer_wins_spoken_by_its_first_voter():
    out = _run(
        _stage([_voter("v1", "8"), _voter("v2", "7"), _voter("v3", "8.0"), _voter("v4", "7"), _voter("v5", " 7. ")])
    )
    assert (out.answer, out.output_node) == ("7", "v2")


def test_a_tie_goes_to_the_answer_given_first():
    out = _run(
        _stage(
            [
                _voter("v1", None),
                _voter("v2", "Paris"),
                _voter("v3", "Rome"),
                _voter("v4", "rome"),
                _voter("v5", "PARIS"),
            ]
        )
    )
    assert (out.answer, out.output_node) == ("Paris", "v2")


def test_no_parsable_answer_gives_no_answer():
    out = _run(_stage([_voter("v1", None), _voter("v2", None)]))
    assert out.answer is None and out.output_node == "v1"


SPENT = ("tokens_in", "tokens_out", "cost_usd", "latency_s", "critical_path_s", "flops_units", "simulated")


def test_the_stage_counts_what_every_voter_spent():
    spent = {
        "v1": (100, 10, 0.25, 1.0, 0.5, 3.0, True),
        "v2": (200, 20, 0.5, 3.0, 2.5, 4.0, False),
        "v3": (300, 30, 1.0, 2.0, 1.5, 5.0, True),
    }
    extra = {"v1": {"notes": ["a"]}, "v2": {"error": "v2 stopped", "notes": ["b"]}, "v3": {"error": "v3 stopped"}}
    answers = {"v1": "7", "v2": "7", "v3": "8"}
    out = _run(_stage([_voter(v, answers[v], **dict(zip(SPENT, spent[v])), **extra[v]) for v in spent]))
    assert (out.tokens_in, out.tokens_out) == (600, 60)
    assert out.cost_usd == pytest.approx(1.75) and out.flops_units == pytest.approx(12.0)
    assert (out.latency_s, out.critical_path_s) == (3.0, 2.5)  # side by side: the longest, not the sum
    assert out.simulated is False  # one voter's replies were real
    assert out.error == "v2 stopped" and out.notes == ["a", "b"]
    assert out.graph_name == "vote5" and out.answer == "7" and out.output_node == "v1"


def test_a_voters_failure_carries_what_every_voter_spent():
    partial = RunResult(graph_name="part-v3", output_node="v3", tokens_in=7, cost_usd=0.125)
    failed = BudgetExceededError("the dollar cap is reached", partial=partial)
    stage = _stage(
        [
            _voter("v1", "7", tokens_in=100, cost_usd=0.25),
            failed_voter := Voter(error=failed),
            _voter("v2", "7", tokens_in=200, cost_usd=0.5),
        ]
    )
    with pytest.raises(BudgetExceededError) as caught:
        _run(stage)
    assert caught.value is failed_voter.error
    spent = caught.value.partial
    assert spent.tokens_in == 307 and spent.cost_usd == pytest.approx(0.875)
    assert spent.answer is None and spent.error == "the dollar cap is reached"
