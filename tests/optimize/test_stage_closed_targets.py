"""An update that gives a staged space's slot a choice its stage closes (a model the stage does not run, another
role, an edge the stages decide) is a problem `validate_update` names, so the LLM feedback agent is asked to
correct it: sampling would drop it (a closed choice has probability 0) while the agent believed it moved the search."""
from __future__ import annotations

from rolegraph.models.pool import ModelPool
from rolegraph.optimize.feedback import EdgeProb, GraphUpdate, validate_update
from rolegraph.optimize.probabilistic import ProbabilisticGraph

from .test_stage_feedback import S1, S3, S8, space_of


def _pg() -> ProbabilisticGraph:
    return ProbabilisticGraph(space_of(ModelPool.builtin()))


def test_a_model_the_stage_does_not_run_is_a_problem_naming_the_stage():
    problems = validate_update(GraphUpdate(models={"n0": {S8: 0.7, S1: 0.3}}), _pg())
    assert len(problems) == 1
    assert "n0" in problems[0] and "llama-3.1-8b" in problems[0] and "search stage" in problems[0]
    assert S1 in problems[0] and S3 in problems[0]  # what the stage allows


def test_the_outputs_closed_model_and_another_role_for_a_stage_slot_are_problems():
    update = GraphUpdate(models={"out": {S1: 1.0}}, roles={"n2": {"searcher": 0.5, "solver": 0.5}})
    problems = validate_update(update, _pg())
    assert any("out" in p and "llama-3.2-1b" in p and "the output" in p for p in problems), problems
    assert any("n2" in p and "searcher" in p and "solve stage" in p for p in problems), problems


def test_an_edge_the_stages_decide_is_a_problem():
    problems = validate_update(GraphUpdate(edges=[EdgeProb(src="n0", dst="n2", prob=0.2)]), _pg())
    assert problems == ["edge n0->n2 is decided by the stages, not learned: leave it out"]


def test_open_choices_pass():
    update = GraphUpdate(models={"n0": {S1: 0.8, S3: 0.2}, "n2": {S8: 1.0}, "out": {S8: 0.6, S3: 0.4}},
                         roles={"n2": {"solver": 1.0}}, presence={"n1": 0.3})
    assert validate_update(update, _pg()) == []
