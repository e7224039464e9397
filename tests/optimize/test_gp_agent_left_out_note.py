"""The GP agent says in its gradient when scored graphs off a staged space's stages were left out of its belief. A
step with no evaluation of its own (its summary "nothing scored") dropped that note with the rest of the reasons;
it is kept there too, and a free-form step with no evaluation reads as before."""
from __future__ import annotations

from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.optimize.feedback import StepContext
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.statistical_agent_gp import StatisticalFeedbackAgent as GPAgent

from .test_stage_feedback import graph
from .test_surrogate_stages import S1, S3, S8, off_the_stages, staged

NOTE = "1 scored graph(s) not of the space's stages left out of the belief"


def _step(space: SearchSpace, scored, evaluations=()) -> StepContext:
    best = scored[0]
    return StepContext(space=space, pg=ProbabilisticGraph(space), iteration=4, evaluations=list(evaluations),
                       best_graph=best[0], best_objective=best[1], best_n=best[2], scored=scored)


def test_a_step_with_no_evaluation_keeps_the_left_out_note(pool):
    space = staged(pool)
    scored = [(off_the_stages(), 1.0, 64), (graph(S1, S8), 0.9, 64), (graph(S3, S3), 0.4, 64)]
    summary = GPAgent().step_sync(_step(space, scored)).gradient.summary
    assert summary.startswith("iteration 4: nothing scored")
    assert NOTE in summary


def test_a_step_with_nothing_on_the_stages_keeps_the_note_too(pool):
    space = staged(pool)
    summary = GPAgent().step_sync(_step(space, [(off_the_stages(), 1.0, 64)])).gradient.summary
    assert summary == f"iteration 4: nothing scored; {NOTE}"


def test_a_free_form_step_with_no_evaluation_reads_as_before(pool):
    space = SearchSpace(pool=pool, models=(S1, S3, S8), budget=18, max_nodes=4)
    chain = GraphSpec(name="chain", nodes=[NodeSpec(id="n0", role="solver", model=S3),
                                           NodeSpec(id="out", role="fuser", model=S8)],
                      edges=[("n0", "out")], output="out")
    scored = [(chain, 0.5, 8)]
    summary = GPAgent().step_sync(_step(space, scored)).gradient.summary
    assert summary == "iteration 4: nothing scored"
