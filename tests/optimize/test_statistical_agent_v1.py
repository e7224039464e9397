"""The default (pre-issue-14) statistical agent's graph identity: a mutation is new unless it is isomorphic to the best graph."""
from __future__ import annotations

from rolegraph.graphs.isomorphism import isomorphic
from rolegraph.optimize import statistical_agent_v1 as statistical_agent
from rolegraph.optimize.feedback import StepContext
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.statistical_agent_v1 import RECHECK_ITEMS, StatisticalFeedbackAgent

from ..graphs.wl_twins import wl_twins
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
