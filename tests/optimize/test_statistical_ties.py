"""Graphs that scored alike taught nothing: the statistical agents' textual gradient names no tied graph as
"helped" or "hurt", and when every graph so far tied it says the probabilities are unchanged rather than "moved
toward the best" (a real SmolLM2 search scoring 0 everywhere read as learning). Text only: nothing decided moves."""
from __future__ import annotations

from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.feedback import StepContext
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.statistical_agent import StatisticalFeedbackAgent
from rolegraph.optimize.statistical_common import describe
from rolegraph.optimize.trace import EvalRecord, Evaluation

S1, S3 = "sim/llama-3.2-1b", "sim/llama-3.2-3b"


def _graph(model: str) -> GraphSpec:
    return GraphSpec(name=f"one-{model}", nodes=[NodeSpec(id="out", role="solver", model=model)], output="out")


def _evaluation(seq: int, spec: GraphSpec, objective: float) -> Evaluation:
    record = EvalRecord(seq=seq, iteration=1, phase="search", source="sampled", graph_hash=f"h{seq}",
                        objective=objective, accuracy=objective, latency_s=1.0, dollars=0.0, n=4)
    return Evaluation(record=record, graph=spec, choices=None)


def _ctx(objectives: list[float]) -> tuple[StepContext, list[GraphSpec]]:
    space = SearchSpace(pool=ModelPool.builtin(), models=(S1, S3), roles=("solver", "fuser"), max_nodes=2, budget=None)
    graphs = [_graph(m) for m in (S1, S3)][: len(objectives)]
    evals = [_evaluation(i, g, o) for i, (g, o) in enumerate(zip(graphs, objectives))]
    best = max(range(len(objectives)), key=objectives.__getitem__)
    ctx = StepContext(space=space, pg=ProbabilisticGraph(space), iteration=1, evaluations=evals,
                      best_graph=graphs[best], best_objective=objectives[best], best_n=4,
                      scored=[(g, o, 4) for g, o in zip(graphs, objectives)])
    return ctx, graphs


def test_tied_graphs_are_neither_helped_nor_hurt_and_nothing_moved_is_said():
    ctx, graphs = _ctx([0.0, 0.0])
    feedback = StatisticalFeedbackAgent().step_sync(ctx)
    named = feedback.gradient.helped + feedback.gradient.hurt
    assert not any(describe(g) in line for g in graphs for line in named)
    assert "probabilities unchanged: the 2 graphs so far scored alike" in feedback.gradient.summary
    assert "moved toward" not in feedback.gradient.summary
    assert not (feedback.update.models or feedback.update.presence or feedback.update.roles)


def test_graphs_that_differ_are_named_best_helped_worst_hurt():
    ctx, graphs = _ctx([0.75, 0.25])
    gradient = StatisticalFeedbackAgent().step_sync(ctx).gradient
    assert any(describe(graphs[0]) in line and "0.750" in line for line in gradient.helped)
    assert any(describe(graphs[1]) in line and "0.250" in line for line in gradient.hurt)
    assert "moved toward the features of the best of 2 graphs" in gradient.summary
