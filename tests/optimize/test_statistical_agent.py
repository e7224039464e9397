"""The default statistical agent's graph identity: a mutation is new unless it is isomorphic to the best graph."""
from __future__ import annotations

from rolegraph.graphs.isomorphism import isomorphic
from rolegraph.optimize import statistical_agent
from rolegraph.optimize.feedback import InitContext, PilotRow, StepContext
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.statistical_agent import RECHECK_ITEMS, StatisticalFeedbackAgent

from ..graphs.wl_twins import wl_twins
from .helpers import tiny_space
from .test_proposal import twin_space


def _ctx(space, best) -> StepContext:
    return StepContext(space=space, pg=ProbabilisticGraph(space), iteration=3, evaluations=[], best_graph=best,
                       best_objective=0.5, best_n=RECHECK_ITEMS, scored=[(best, 0.5, RECHECK_ITEMS)])


def test_a_mutation_that_only_shares_the_best_graphs_hash_bucket_is_proposed(pool, monkeypatch):
    a, b = wl_twins()
    space = twin_space(pool)
    monkeypatch.setattr(statistical_agent, "mutate", lambda ctx, rng: b)
    proposed = StatisticalFeedbackAgent()._proposal(_ctx(space, a))
    assert proposed is not None and isomorphic(proposed.to_spec(), b)


def test_a_mutation_isomorphic_to_the_best_graph_is_not(pool, monkeypatch):
    a, _ = wl_twins()
    space = twin_space(pool)
    renamed = a.model_copy(update={"name": "copy"})
    monkeypatch.setattr(statistical_agent, "mutate", lambda ctx, rng: renamed)
    assert StatisticalFeedbackAgent()._proposal(_ctx(space, a)) is None


def _pilot(space, objectives: list[float]) -> InitContext:
    """A pilot of each model alone, scoring `objectives` in the order of `space.models`."""
    rows = [
        PilotRow(label=f"single {m.split('/')[-1]}", graph=space.single(m), accuracy=obj, latency_s=1.0,
                 dollars=0.0, budget_cost=1.0, objective=obj, n=4)
        for m, obj in zip(space.models, objectives)
    ]
    return InitContext(space=space, pg=ProbabilisticGraph(space), pilot=rows)


def test_a_pilot_row_that_scored_zero_is_never_said_to_have_helped(pool):
    space = tiny_space(pool)  # 1B, 3B, 8B: only the 3B scored anything
    gradient = StatisticalFeedbackAgent().initial_sync(_pilot(space, [0.0, 0.75, 0.0])).gradient
    assert gradient.helped == ["single llama-3.2-3b: objective 0.750 (accuracy 0.75, cost 1)"]
    assert [line.split(":")[0] for line in gradient.hurt] == ["single llama-3.1-8b", "single llama-3.2-1b"]


def test_the_best_pilot_rows_that_scored_are_still_said_to_have_helped(pool):
    space = tiny_space(pool)
    gradient = StatisticalFeedbackAgent().initial_sync(_pilot(space, [0.25, 0.75, 0.5])).gradient
    assert [line.split(":")[0] for line in gradient.helped] == [
        "single llama-3.2-3b", "single llama-3.1-8b", "single llama-3.2-1b"]
    assert gradient.hurt == []
