"""The statistical feedback agents learn a staged space per stage: each stage's slots take the model and width
that stage ran in the graphs that scored well, within the models the stage allows; stage roles stay fixed; the
textual gradient names the stage and shows the probabilities the sampler draws from."""
from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.hub import ModelHub
from rolegraph.optimize.api import default_toolbox, make_optimizer
from rolegraph.optimize.context import SearchConfig, SearchContext
from rolegraph.optimize.feedback import InitContext, PilotRow, StepContext, apply_update, validate_update
from rolegraph.optimize.loop import run_search
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.space_file import load_space
from rolegraph.optimize.stage_feedback import expected_width, presence_for_width, stage_features
from rolegraph.optimize.stages import Stage, StageOutput
from rolegraph.optimize.statistical_agent import StatisticalFeedbackAgent
from rolegraph.optimize.statistical_agent_gp import StatisticalFeedbackAgent as GPAgent
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task

from .qa_fixture import write_qa_fixture

S1, S3, S8 = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"
SEARCH_SLOTS, SOLVE_SLOTS = ("n0", "n1"), ("n2", "n3", "n4")
STAGED_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spaces" / "hotpotqa_stages.yaml"


def space_of(pool) -> SearchSpace:
    """search (1B or 3B, one or two searchers) -> solve (any model, one to three solvers) -> fuser (3B or 8B)."""
    return SearchSpace(pool=pool, models=(), budget=None, family="qa",
                       stages=(Stage("search", "searcher", (S1, S3), (1, 2)),
                               Stage("solve", "solver", (S1, S3, S8), (1, 2, 3))),
                       stage_output=StageOutput(("fuser",), (S3, S8)))


def graph(searcher: str, solver: str, searchers: int = 1, solvers: int = 1, out: str = S8) -> GraphSpec:
    """A staged graph in slot form: searchers n0.., solvers n2.., all searchers read by all solvers."""
    search = [f"n{i}" for i in range(searchers)]
    solve = [f"n{2 + i}" for i in range(solvers)]
    nodes = [NodeSpec(id=i, role="searcher", model=searcher) for i in search]
    nodes += [NodeSpec(id=i, role="solver", model=solver) for i in solve]
    nodes.append(NodeSpec(id="out", role="fuser", model=out))
    edges = [(a, b) for a in search for b in solve] + [(b, "out") for b in solve]
    return GraphSpec(name=f"{searcher}-{solver}", nodes=nodes, edges=edges, output="out")


# 1B searchers with an 8B solver score high; every other mix low.
SCORED = [(graph(S1, S8), 0.9, 32), (graph(S3, S1), 0.2, 32), (graph(S3, S3), 0.25, 32), (graph(S1, S1), 0.3, 32),
          (graph(S3, S8), 0.3, 32)]


def step_ctx(space: SearchSpace, scored=SCORED, pg: ProbabilisticGraph | None = None) -> StepContext:
    best = scored[0]
    return StepContext(space=space, pg=pg or ProbabilisticGraph(space), iteration=2, evaluations=[],
                       best_graph=best[0], best_objective=best[1], best_n=best[2], scored=list(scored))


def test_each_stage_learns_its_own_model_within_what_it_allows(pool):
    space = space_of(pool)
    pg = ProbabilisticGraph(space)
    feedback = StatisticalFeedbackAgent().step_sync(step_ctx(space, pg=pg))
    update = feedback.update
    for slot in SEARCH_SLOTS:  # the search stage's graphs that scored: 1B
        assert set(update.models[slot]) == {S1, S3}
        assert update.models[slot][S1] > 0.9 > update.models[slot][S3]
    for slot in SOLVE_SLOTS:  # the solve stage's: 8B, which the search stage cannot take
        assert update.models[slot][S8] > 0.85 and update.models[slot][S8] == max(update.models[slot].values())
    assert set(update.models["out"]) == {S3, S8}  # the output allows no 1B
    assert not set(update.roles) & {*SEARCH_SLOTS, *SOLVE_SLOTS}  # a stage's role is fixed: nothing to learn
    assert validate_update(update, pg) == []
    moved = apply_update(pg, update, 1.0).probs()  # what the sampler now draws from
    assert moved.models[0, space.models.index(S1)] > 0.9 and moved.models[0, space.models.index(S8)] == 0.0
    assert moved.models[2, space.models.index(S8)] > 0.85 and moved.models[2, space.models.index(S1)] < 0.1
    assert moved.roles[0, space.worker_roles.index("searcher")] == 1.0
    assert moved.roles[2, space.worker_roles.index("solver")] == 1.0
    lines = feedback.gradient.helped + feedback.gradient.hurt
    # at the start every open model is equally likely: 1/2 per search model, 1/3 per solve model
    assert "search stage model llama-3.2-1b: 0.50 -> 0.95" in lines
    assert any(line.startswith("solve stage model llama-3.1-8b: 0.33 -> 0.9") for line in lines)
    assert not any(line.startswith("worker ") or "llama-3.2-1b" in line and line.startswith("output") for line in lines)


def test_one_dominant_graph_gives_each_stage_its_models_share_plus_the_uniform_tenth(pool):
    """With all the weight on one graph, a stage's target is 0.9 on its model plus 0.1 spread over the models
    the stage allows (not over every model of the space)."""
    space = space_of(pool)
    scored = [(graph(S1, S8), 1.0, 32), (graph(S3, S3), 0.0, 32)]  # weight exp(-1 / 0.05): nothing
    update = StatisticalFeedbackAgent().step_sync(step_ctx(space, scored)).update
    assert update.models["n0"] == pytest.approx({S1: 0.95, S3: 0.05}, abs=1e-4)
    assert update.models["n2"] == pytest.approx({S1: 0.1 / 3, S3: 0.1 / 3, S8: 0.9 + 0.1 / 3}, abs=1e-4)
    assert update.models["out"] == pytest.approx({S3: 0.05, S8: 0.95}, abs=1e-4)


def test_each_stage_learns_its_own_width(pool):
    """Three solvers score high, one searcher: the solve stage widens, the search stage narrows; the line says
    by how much the stage's expected width (what the sampler draws) moves."""
    space = space_of(pool)
    scored = [(graph(S1, S3, searchers=1, solvers=3), 0.9, 32), (graph(S1, S3, searchers=2, solvers=1), 0.1, 32)]
    feedback = StatisticalFeedbackAgent().step_sync(step_ctx(space, scored))
    presence = feedback.update.presence
    assert {presence[s] for s in SEARCH_SLOTS} == {0.05}  # width 1 is the smallest allowed: the lowest presence
    assert {presence[s] for s in SOLVE_SLOTS} == {0.95}
    lines = feedback.gradient.helped + feedback.gradient.hurt
    # at presence 1/2, two search slots: width 1 unless both are drawn (1/4): 1.25; three solve slots: 0 or 1
    # present -> 1, 2 -> 2, 3 -> 3: 1/2 + 3/8 * 2 + 1/8 * 3 = 1.625
    assert "search stage width: 1.2 -> 1.0" in lines
    assert "solve stage width: 1.6 -> 2.9" in lines


def test_the_presence_for_a_width_gives_that_expected_width():
    stage = Stage("solve", "solver", (S1,), (1, 2, 3))
    assert expected_width(stage, np.array([0.5, 0.5, 0.5])) == pytest.approx(1.625)
    p = presence_for_width(stage, 2.0, 0.05, 0.95)
    assert expected_width(stage, np.full(3, p)) == pytest.approx(2.0, abs=1e-9)
    assert presence_for_width(stage, 0.5, 0.05, 0.95) == 0.05  # below the smallest allowed width
    optional = Stage("plan", "planner", (S1,), (0, 1))
    assert presence_for_width(optional, 0.3, 0.05, 0.95) == pytest.approx(0.3)


def test_the_gp_agent_learns_per_stage_too(pool):
    space = space_of(pool)
    pg = ProbabilisticGraph(space)
    feedback = GPAgent().step_sync(step_ctx(space, pg=pg))
    update = feedback.update
    for slot in SEARCH_SLOTS:
        assert set(update.models[slot]) == {S1, S3}
    for slot in SOLVE_SLOTS:
        assert set(update.models[slot]) == {S1, S3, S8}
    assert set(update.models["out"]) == {S3, S8}
    assert not set(update.roles) & {*SEARCH_SLOTS, *SOLVE_SLOTS}
    assert len({tuple(sorted(update.models[s].items())) for s in SOLVE_SLOTS}) == 1  # one target per stage
    assert validate_update(update, pg) == []
    assert not any(line.startswith("worker ") for line in feedback.gradient.helped + feedback.gradient.hurt)


def test_the_pilot_credits_each_stage_with_the_model_it_ran(pool):
    """The 8B pipeline runs its searchers on the 3B (the search stage has no 8B): its score is the 3B searcher's,
    and the 1B pipeline's low score is the 1B searcher's."""
    space = space_of(pool)
    pg = ProbabilisticGraph(space)

    def row(spec: GraphSpec, objective: float) -> PilotRow:
        return PilotRow(spec.name, spec, objective, 1.0, 0.001, 10.0, objective, 16)

    rows = [row(graph(S3, S8, out=S8), 0.8), row(graph(S3, S3, out=S3), 0.5), row(graph(S1, S1, out=S3), 0.1)]
    update = StatisticalFeedbackAgent().initial_sync(InitContext(space=space, pg=pg, pilot=rows)).update
    for slot in SEARCH_SLOTS:
        assert set(update.models[slot]) == {S1, S3} and update.models[slot][S3] > update.models[slot][S1]
    for slot in SOLVE_SLOTS:
        assert update.models[slot][S8] > update.models[slot][S3] > update.models[slot][S1]
    assert set(update.models["out"]) == {S3, S8}
    assert validate_update(update, pg) == []


def test_a_staged_search_only_ever_updates_within_the_stages(pool, tmp_path):
    """End to end on the staged example space (sim): every update in the trace gives each slot only its stage's
    models, leaves stage roles alone, and its lines name the stages."""
    task = get_task("hotpotqa", data=write_qa_fixture(tmp_path / "qa.json"))
    space = load_space(STAGED_EXAMPLE, pool, family="qa")
    config = SearchConfig(iterations=4, samples=2, batch=4, validation_items=2, test_items=2, top_candidates=2)

    async def main():
        hub = ModelHub(pool, Settings(home=tmp_path / "home"))
        try:
            ctx = SearchContext(task=task, space=space, hub=hub, config=config,
                                toolbox=default_toolbox(hub.settings, task))
            await run_search(ctx, make_optimizer("agent-reinforce"))
            return ctx
        finally:
            await hub.aclose()

    ctx = asyncio.run(main())
    records = ctx.trace.feedback
    assert len(records) >= 2 and any(r.iteration > 0 and r.update.get("models") for r in records)
    allowed = {}
    slot = 0
    for stage in space.stages:
        for _ in range(stage.max_width):
            allowed[f"n{slot}"] = set(stage.models)
            slot += 1
    allowed["out"] = set(space.staged_output.models)
    for record in records:
        for node, row in record.update.get("models", {}).items():
            assert {m for m, p in row.items() if p > 0} <= allowed[node], (record.iteration, node, row)
        assert set(record.update.get("roles", {})) <= {"out"}
        lines = record.helped + record.hurt
        assert not any(line.startswith(("worker model", "worker role", "width:")) for line in lines)
    steps = [r for r in records if r.iteration > 0 and r.update.get("models")]
    assert any(" stage " in line for r in steps for line in r.helped + r.hurt)


def test_a_staged_graph_with_other_node_ids_is_read_by_its_stages_and_a_foreign_one_not_at_all(pool):
    space = space_of(pool)
    renamed = GraphSpec(name="renamed", nodes=[NodeSpec(id="look", role="searcher", model=S1),
                                               NodeSpec(id="think", role="solver", model=S8),
                                               NodeSpec(id="out", role="fuser", model=S8)],
                        edges=[("look", "think"), ("think", "out")], output="out")
    read = stage_features(space, renamed)
    assert read is not None and read["widths"] == [1.0, 1.0]
    assert read["models"][0][space.models.index(S1)] == 1.0 and read["models"][1][space.models.index(S8)] == 1.0
    solver_first = GraphSpec(name="backwards", nodes=[NodeSpec(id="n0", role="solver", model=S8),
                                                     NodeSpec(id="n2", role="searcher", model=S1),
                                                     NodeSpec(id="out", role="fuser", model=S8)],
                             edges=[("n0", "n2"), ("n2", "out")], output="out")
    assert stage_features(space, solver_first) is None
