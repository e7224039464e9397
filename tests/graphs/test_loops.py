"""Bounded loops on the sim pool: revise loops and debate rounds, bounds, stop conditions, budget."""
import asyncio

import pytest

from rolegraph.graphs.budget import Budget
from rolegraph.agents.parsers import parse_verdicts
from rolegraph.graphs.loops import accepted, agreement, unchanged
from rolegraph.graphs.dynamic import LoopGroup
from rolegraph.graphs.runtime import run_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

S1, S3, S8 = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"


def revise(max_rounds=2, until="never", sees="last") -> GraphSpec:
    return GraphSpec.model_validate({
        "nodes": [{"id": "solve", "role": "solver", "model": S1}, {"id": "verify", "role": "verifier", "model": S8}],
        "edges": [["solve", "verify"]],
        "loops": [{"from": "verify", "to": "solve", "max_rounds": max_rounds, "until": until, "sees": sees}]})


def debate(max_rounds=3, until="agreement") -> GraphSpec:
    return GraphSpec.model_validate({
        "nodes": [{"id": "a", "role": "solver", "model": S1}, {"id": "b", "role": "solver", "model": S3},
                  {"id": "judge", "role": "fuser", "model": S8}],
        "edges": [["a", "judge"], ["b", "judge"]],
        "loops": [{"from": "a", "to": "b", "max_rounds": max_rounds, "until": until},
                  {"from": "b", "to": "a", "max_rounds": max_rounds, "until": until}]})


@pytest.fixture
def hub(tmp_path):
    return ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False))


def item(i, family="math"):
    return Item(id=f"l{i}", question=f"What is {i} * 7 + 3?", gold=str(i * 7 + 3), family=family)


def run(spec, it, hub, **kw):
    return asyncio.run(run_graph(spec, it, hub, **kw))


def test_max_rounds_two_never_runs_a_third_round(hub):
    for i in range(6):
        res = run(revise(2, "never"), item(i), hub)
        assert [n.id for n in res.nodes] == ["solve@1", "verify@1", "solve@2", "verify@2"]
        assert max(n.round for n in res.nodes) == 2
        assert "2 round(s) of at most 2; stopped: reached max_rounds 2" in res.notes[0]
        # round 2 of the target reads the previous round's feedback, nothing more
        assert res.node("solve@2").inputs == ["verify@1"] and res.node("verify@2").inputs == ["solve@2"]
        assert res.answer == res.node("verify").answer == res.node("verify@2").answer
        assert res.node("solve@2").start_s == pytest.approx(res.node("verify@1").end_s)


def test_accepted_stops_early_and_the_meter_counts_actual_rounds(hub):
    stopped_early = 0
    for i in range(12):
        res = run(revise(3, "accepted"), item(i), hub)
        rounds = max(n.round for n in res.nodes)
        verdicts = res.node("verify").verdicts
        if rounds < 3:
            stopped_early += 1
            assert "'accepted' held" in res.notes[0] and verdicts[f"solve@{rounds}"] == "correct"
        assert res.tokens == sum(n.tokens_in + n.tokens_out for n in res.nodes)
    assert stopped_early > 0


def test_sees_all_reads_every_earlier_round(hub):
    res = run(revise(3, "never", "all"), item(1), hub)
    assert res.node("solve@3").inputs == ["verify@1", "verify@2"]
    assert res.node("solve@3").tokens_in > res.node("solve@2").tokens_in


def test_debate_rounds_between_solvers(hub):
    res = run(debate(3, "never"), item(2), hub)
    assert res.node("b@2").inputs == ["a@1"] and res.node("a@2").inputs == ["b@1"]
    assert res.node("judge").inputs == ["a@3", "b@3"]
    assert len(res.runs("a")) == len(res.runs("b")) == 3


def test_a_loop_stops_when_the_next_round_would_break_the_budget(hub):
    one_round = run(revise(1, "never"), item(3), hub)
    res = run(revise(5, "never"), item(3), hub, budget=Budget(max_tokens=one_round.tokens * 3))
    rounds = max(n.round for n in res.nodes)
    assert 1 <= rounds < 5 and "would not fit the budget" in res.notes[0] and res.error is None


def test_stop_conditions():
    group = LoopGroup("loop1", ("solve", "verify"), (("verify", "solve"),), 3, "accepted", "last")
    preds = {"solve": (), "verify": ("solve",)}
    ok = {"solve": {"answer": "12"}, "verify": {"answer": "12", "fields": {"verdicts": {"solve@1": "correct"}}}}
    no = {"solve": {"answer": "12"}, "verify": {"answer": "13", "fields": {"verdicts": {"solve@1": "incorrect"}}}}
    plain = {"solve": {"answer": "12"}, "verify": {"answer": " 12. ", "fields": {}}}
    assert accepted(group, ok, preds, 1) and not accepted(group, no, preds, 1) and accepted(group, plain, preds, 1)
    assert agreement({"a": {"answer": "x"}, "b": {"answer": "X"}}) and not agreement({"a": {"answer": "x"},
                                                                                       "b": {"answer": "y"}})
    assert unchanged({"a": {"answer": "1"}}, {"a": {"answer": "1"}}) and not unchanged({"a": {"answer": "1"}}, None)


REVISE = LoopGroup("loop1", ("solve", "verify"), (("verify", "solve"),), 3, "accepted", "last")
REVISE_PREDS = {"solve": (), "verify": ("solve",)}


def verifier_round(text: str) -> dict:
    """A round's results where the verifier wrote `text` (parsed as the built-in verifier parses it)."""
    out = parse_verdicts(text, "math")
    return {"solve": {"answer": "224"}, "verify": {"answer": out.answer, "fields": out.fields}}


def test_accepted_reads_only_the_verdicts_on_this_rounds_inputs():
    # round 2's verifier quotes its input, which quotes round 1's review: the stale rejection must not count
    quoting = (
        "[1] solve@2 (solver): Reviewing the feedback.\n  Verdict for solve@1: incorrect\n  Answer: 224\n"
        "Verdict for solve@2: correct\nFinal answer: 224"
    )
    assert accepted(REVISE, verifier_round(quoting), REVISE_PREDS, 2)
    # the same text read as round 3's: no verdict on solve@3, so nothing accepts the round
    assert not accepted(REVISE, verifier_round(quoting), REVISE_PREDS, 3)
    rejecting = "Verdict for solve@1: correct\nVerdict for solve@2: incorrect\nFinal answer: 223"
    assert not accepted(REVISE, verifier_round(rejecting), REVISE_PREDS, 2)
    # a bare node id names the node the verifier reads; a round id for this round wins over it
    assert accepted(REVISE, verifier_round("Verdict for Solve: correct\nFinal answer: 224"), REVISE_PREDS, 2)
    both = "Verdict for solve: incorrect\nVerdict for solve@2: correct\nFinal answer: 224"
    assert accepted(REVISE, verifier_round(both), REVISE_PREDS, 2)
    # verdicts only on nodes outside this round: not accepted (and not the answer-agreement fallback)
    stale = "Verdict for solve@1: correct\nFinal answer: 224"
    assert not accepted(REVISE, verifier_round(stale), REVISE_PREDS, 2)


def test_accepted_stops_after_a_rejected_first_round(hub):
    """A 1B solver is often wrong in round 1; once revised and accepted, the loop must stop (the sim's
    verifier quotes its input, so round 2's output carries round 1's rejection)."""
    solve1b = GraphSpec.model_validate({
        "nodes": [{"id": "solve", "role": "solver", "model": S1}, {"id": "verify", "role": "verifier", "model": S8}],
        "edges": [["solve", "verify"]], "output": "verify",
        "loops": [{"from": "verify", "to": "solve", "max_rounds": 3, "until": "accepted"}]})
    recovered = 0
    for i in range(40):
        res = run(solve1b, item(i), hub)
        r1, r2 = res.runs("verify")[:2] if len(res.runs("verify")) > 1 else (res.runs("verify")[0], None)
        if r2 is None or r1.verdicts.get("solve@1") != "incorrect" or r2.verdicts.get("solve@2") != "correct":
            continue
        recovered += 1
        assert [n.id for n in res.nodes] == ["solve@1", "verify@1", "solve@2", "verify@2"]
        assert "2 round(s) of at most 3; stopped: 'accepted' held" in res.notes[0]
    assert recovered > 0
