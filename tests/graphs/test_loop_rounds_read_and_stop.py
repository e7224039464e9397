"""A loop's rounds: what a round reads of earlier ones (`sees: last` is the previous round only, however many ran),
which nodes a stop rule weighs (`accepted`: the source's inputs inside the loop; `agreement`: the answering nodes),
and why a loop that ran all its rounds says it reached max_rounds, not that a next round would not fit."""
import asyncio

import pytest

from rolegraph.graphs.budget import Budget
from rolegraph.graphs.dynamic import LoopGroup
from rolegraph.graphs.loops import accepted
from rolegraph.graphs.runtime import run_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

S1, S8 = "sim/llama-3.2-1b", "sim/llama-3.1-8b"
REVISE = LoopGroup("loop1", ("solve", "verify"), (("verify", "solve"),), 3, "accepted", "last")


@pytest.fixture
def hub(tmp_path):
    return ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False))


def revise(max_rounds: int, until: str = "never") -> GraphSpec:
    return GraphSpec.model_validate({
        "nodes": [{"id": "solve", "role": "solver", "model": S1}, {"id": "verify", "role": "verifier", "model": S8}],
        "edges": [["solve", "verify"]],
        "loops": [{"from": "verify", "to": "solve", "max_rounds": max_rounds, "until": until}]})


def item(i: int = 4) -> Item:
    return Item(id=f"r{i}", question=f"What is {i} * 7 + 3?", gold=str(i * 7 + 3), family="math")


def run(spec, hub, **kw):
    return asyncio.run(run_graph(spec, item(), hub, **kw))


def test_sees_last_reads_only_the_previous_round_in_round_three(hub):
    res = run(revise(3), hub)
    assert res.node("solve@2").inputs == ["verify@1"]
    assert res.node("solve@3").inputs == ["verify@2"]


def test_accepted_without_verdicts_weighs_only_the_inputs_inside_the_loop():
    preds = {"solve": ("hint",), "verify": ("hint", "solve")}  # both also read a node before the loop
    round_ = {"solve": {"answer": "31"}, "verify": {"answer": "31", "fields": {}}}
    assert accepted(REVISE, round_, preds, 1)  # the outside node's answer is no part of the rule


def test_a_source_without_an_answer_does_not_accept_a_round():
    preds = {"solve": (), "verify": ("solve",)}
    silent = {"solve": {"answer": None}, "verify": {"answer": None, "fields": {}}}
    assert not accepted(REVISE, silent, preds, 1)


def test_agreement_is_among_the_answering_nodes_only(hub):
    # a planner gives no answer: the lone solver agrees with itself, so one round is enough
    spec = GraphSpec.model_validate({
        "nodes": [{"id": "plan", "role": "planner", "model": S8}, {"id": "solve", "role": "solver", "model": S8}],
        "edges": [["plan", "solve"]],
        "loops": [{"from": "solve", "to": "plan", "max_rounds": 3, "until": "agreement"}]})
    res = run(spec, hub)
    assert res.node("solve@1").answer is not None
    assert [n.id for n in res.nodes] == ["plan@1", "solve@1"]
    assert "1 round(s) of at most 3; stopped: 'agreement' held" in res.notes[0]


def test_a_loop_that_ran_its_last_round_reached_max_rounds_whatever_the_budget_left(hub):
    free = run(revise(2), hub)
    # time enough for both rounds to start every call, and not for a third round to start
    cap = (free.node("solve@2").end_s + free.node("verify@2").end_s) / 2
    res = run(revise(2), hub, budget=Budget(max_seconds=cap))
    assert [n.id for n in res.nodes] == ["solve@1", "verify@1", "solve@2", "verify@2"]
    assert "2 round(s) of at most 2; stopped: reached max_rounds 2" in res.notes[0]


def test_a_verifier_that_rejects_one_of_its_inputs_rejects_the_round():
    group = LoopGroup("loop1", ("a", "b", "verify"), (("verify", "a"),), 3, "accepted", "last")
    preds = {"a": (), "b": ("a",), "verify": ("a", "b")}
    mixed = {"a": {"answer": "31"}, "b": {"answer": "31"},
             "verify": {"answer": "31", "fields": {"verdicts": {"a@1": "correct", "b@1": "incorrect"}}}}
    assert not accepted(group, mixed, preds, 1)


def test_a_round_that_ended_past_the_time_budget_starts_no_next_round(hub):
    free = run(revise(3), hub)
    # the solver of round 1 ends before the cap, its verifier after it: round 2 could not start in time
    cap = (free.node("solve@1").end_s + free.node("verify@1").end_s) / 2
    res = run(revise(3), hub, budget=Budget(max_seconds=cap))
    assert [n.id for n in res.nodes] == ["solve@1", "verify@1"] and res.error is None
    assert "1 round(s) of at most 3; stopped: the next round would not fit the budget (time budget" in res.notes[0]
