"""The Gaussian-process belief reads a staged space stage by stage: a 1B searcher beside a 3B solver and the
stages swapped are different graphs to it (pooled over the worker slots they were one point), so what it
believes, how it weights the update and what it proposes follow each stage's model; a free-form space is
encoded exactly as before (values worked out by hand below)."""

from __future__ import annotations

import numpy as np
import pytest

from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.optimize.feedback import InitContext, PilotRow, StepContext
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.stages import Stage, StageOutput
from rolegraph.optimize.statistical_agent_gp import StatisticalFeedbackAgent as GPAgent
from rolegraph.optimize.surrogate import GraphSurrogate, features

from .test_stage_feedback import graph

S1, S3, S8 = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"
SEARCH_SLOTS, SOLVE_SLOTS = ("n0", "n1"), ("n2", "n3")


def staged(pool) -> SearchSpace:
    """search (any model, one or two searchers) -> solve (any model, one or two solvers) -> fuser (3B or 8B):
    four worker slots, n0-n1 the searchers', n2-n3 the solvers'."""
    return SearchSpace(
        pool=pool,
        models=(),
        budget=None,
        family="qa",
        stages=(Stage("search", "searcher", (S1, S3, S8), (1, 2)), Stage("solve", "solver", (S1, S3, S8), (1, 2))),
        stage_output=StageOutput(("fuser",), (S3, S8)),
    )


def off_the_stages() -> GraphSpec:
    """A solver read by a searcher: the stages run search before solve, so this is no graph of the space."""
    nodes = [
        NodeSpec(id="a", role="solver", model=S1),
        NodeSpec(id="b", role="searcher", model=S1),
        NodeSpec(id="out", role="fuser", model=S8),
    ]
    return GraphSpec(name="solve-then-search", nodes=nodes, edges=[("a", "b"), ("b", "out")], output="out")


def test_swapping_the_stages_models_changes_the_encoding(pool):
    space = staged(pool)
    a, b = graph(S1, S3), graph(S3, S1)
    assert not np.array_equal(features(space, a), features(space, b))
    # Worked out by hand over the 4 worker slots: per stage its model counts / 4, then the widths / 4, then the
    # output's model one-hot (the output has one role: no role block).
    assert np.array_equal(features(space, a), [0.25, 0, 0, 0, 0.25, 0, 0.25, 0.25, 0, 0, 1])
    assert np.array_equal(features(space, b), [0, 0.25, 0, 0.25, 0, 0, 0.25, 0.25, 0, 0, 1])
    wide = graph(S1, S3, searchers=2)  # a stage's width is read too
    assert np.array_equal(features(space, wide), [0.5, 0, 0, 0, 0.25, 0, 0.5, 0.25, 0, 0, 1])


def test_the_belief_carries_a_stage_assignment_not_a_pooled_mix(pool):
    """Scored: 1B searcher with 8B solver high, 3B everywhere low. Unseen: the same assignment with a second
    solver, and the stages swapped with a second solver. Pooled over the slots both sit as far from each scored
    graph (one 1B and two 8B workers against two 1B and one 8B), so a pooled belief ties them."""
    space = staged(pool)
    gp = GraphSurrogate(space).fit([graph(S1, S8), graph(S3, S3)], [0.9, 0.4], [64, 64])
    mu, _ = gp.predict([graph(S1, S8, solvers=2), graph(S8, S1, solvers=2)])
    assert mu[0] > mu[1] + 0.05


def test_the_gp_agent_weights_and_moves_each_stage_by_its_own_model(pool):
    """1B searcher / 8B solver scored high and 8B searcher / 1B solver low: pooled, both were one point with
    one belief, so the update gave each stage 1B and 8B alike."""
    space = staged(pool)
    pg = ProbabilisticGraph(space)
    good, swapped = graph(S1, S8), graph(S8, S1)
    scored = [(good, 0.9, 64), (swapped, 0.3, 64)]
    ctx = StepContext(
        space=space, pg=pg, iteration=2, evaluations=[], best_graph=good, best_objective=0.9, best_n=64, scored=scored
    )
    update = GPAgent().step_sync(ctx).update
    for slot in SEARCH_SLOTS:
        assert update.models[slot][S1] > update.models[slot][S8] + 0.2
    for slot in SOLVE_SLOTS:
        assert update.models[slot][S8] > update.models[slot][S1] + 0.2


def test_a_scored_graph_off_the_stages_is_left_out_of_the_belief_and_said(pool):
    """Such a graph has no stage reading: it is refused by the surrogate, and the agent leaves it out of the
    belief and says so in its summary (read through the pilot, whose summary carries the agent's reasons)."""
    space = staged(pool)
    assert features(space, off_the_stages()) is None
    with pytest.raises(ValueError, match="not graphs of the space's stages"):
        GraphSurrogate(space).encode([graph(S1, S8), off_the_stages()])

    def row(spec: GraphSpec, objective: float) -> PilotRow:
        return PilotRow(spec.name, spec, objective, 1.0, 0.001, 10.0, objective, 64)

    rows = [row(off_the_stages(), 1.0), row(graph(S1, S8), 0.9), row(graph(S3, S3), 0.4)]
    feedback = GPAgent().initial_sync(InitContext(space=space, pg=ProbabilisticGraph(space), pilot=rows))
    assert "1 scored graph(s) not of the space's stages left out of the belief" in feedback.gradient.summary
    assert feedback.update.proposed_graph is not None
    alone = GPAgent().initial_sync(InitContext(space=space, pg=ProbabilisticGraph(space), pilot=rows[:1]))
    assert "nothing scored on the space's stages yet; 1 scored graph(s)" in alone.gradient.summary
    assert alone.update.proposed_graph is None


def test_a_free_form_encoding_is_the_one_worked_out_by_hand(pool):
    """Two slots' worth of counts over 3 worker slots, 4 worker roles (so a role block), 3 output roles."""
    space = SearchSpace(
        pool=pool,
        models=(S1, S8),
        roles=("solver", "planner", "fuser", "verifier"),
        max_nodes=4,
        budget=42.0,
        worker_edges=True,
    )
    assert (space.worker_slots, space.worker_roles, space.output_roles) == (
        3,
        ("solver", "planner", "fuser", "verifier"),
        ("solver", "fuser", "verifier"),
    )
    chain = GraphSpec(
        name="chain",
        nodes=[
            NodeSpec(id="n0", role="planner", model=S1),
            NodeSpec(id="n1", role="solver", model=S8),
            NodeSpec(id="out", role="fuser", model=S8),
        ],
        edges=[("n0", "n1"), ("n1", "out")],
        output="out",
    )
    # models 1B, 8B: 1/3 each | roles solver, planner, fuser, verifier: 1/3, 1/3, 0, 0 | width 2/3, inner edges
    # 1 of 1 pair | output model 8B | output role fuser
    third = 1 / 3
    assert np.array_equal(features(space, chain), [third, third, third, third, 0, 0, 2 / 3, 1, 0, 1, 0, 1, 0])
    single = GraphSpec(name="single", nodes=[NodeSpec(id="out", role="solver", model=S1)], edges=[], output="out")
    assert np.array_equal(features(space, single), [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0])
