"""Staged spaces: every sample is a staged graph inside the budget, every optimizer searches one, and
a staged search with roles of one's own runs on a real model (llama.cpp's server) and warm-starts."""
from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegraph.agents.roles_file import load_roles
from rolegraph.errors import SearchError
from rolegraph.graphs.isomorphism import isomorphic
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.graphs.validate import validate_graph
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.agent_reinforce import pilot_graphs
from rolegraph.optimize.api import default_toolbox, make_optimizer, optimize_async
from rolegraph.optimize.baselines.exhaustive import enumerate_graphs, raw_size
from rolegraph.optimize.baselines.tpe import TPESearch
from rolegraph.optimize.choices import from_graph, realise
from rolegraph.optimize.context import SearchConfig, SearchContext
from rolegraph.optimize.loop import run_search
from rolegraph.optimize.probabilistic import Logits, ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.stages import Stage, StageOutput
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task

from .qa_fixture import write_qa_fixture

S1, S3, S8 = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"
OPTIMIZERS = ("agent-reinforce", "random", "reinforce", "tpe", "exhaustive")


def staged(pool, budget=24.0, same_model=True, **kw) -> SearchSpace:
    stages = (
        Stage("plan", "planner", (S3, S8), (0, 1)),
        Stage("search", "searcher", (S1, S3), (1, 2)),
        Stage("solve", "solver", (S1, S3, S8), (1, 2, 3), same_model=same_model),
    )
    return SearchSpace(pool=pool, models=(), budget=budget, family="qa", stages=stages,
                       stage_output=StageOutput(("fuser", "verifier"), (S3, S8)), **kw)


def layers(space: SearchSpace, spec: GraphSpec) -> list[list[str]]:
    """Worker ids grouped by stage (by role, in stage order)."""
    return [[n.id for n in spec.nodes if n.role == st.role and n.id != "out"] for st in space.stages]


def check_staged(space: SearchSpace, spec: GraphSpec) -> None:
    assert validate_graph(spec, space.pool) == []
    assert space.fits(spec)
    groups = layers(space, spec)
    for stage, ids in zip(space.stages, groups):
        assert len(ids) in stage.widths
        models = {spec.node(i).model for i in ids}
        assert models <= set(stage.models) and (len(models) <= 1 or not stage.same_model)
    nonempty = [g for g in groups if g] + [["out"]]
    want = {(a, b) for prev, nxt in zip(nonempty, nonempty[1:]) for a in prev for b in nxt}
    assert set(spec.edges) == want
    out = spec.node("out")
    assert out.role in space.output_roles and out.model in space.stage_output.models


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.0, 4.0), budget=st.sampled_from((6.0, 12.0, 24.0, None)),
       same_model=st.booleans())
def test_every_sample_is_a_staged_graph_that_fits_and_maps_back(pool, seed, scale, budget, same_model):
    space = staged(pool, budget, same_model)
    pg = ProbabilisticGraph(space)
    rng = np.random.default_rng(seed)
    pg.logits = Logits(*(rng.normal(0, scale, a.shape) for a in pg.logits.arrays()))
    c, spec = pg.sample_choices(rng)
    check_staged(space, spec)
    back = from_graph(space, spec)
    assert back is not None and isomorphic(realise(space, back)[1], spec)


def test_closed_choices_have_no_probability_and_no_gradient(pool):
    space = staged(pool)
    pg = ProbabilisticGraph(space)
    p = pg.probs()
    small = space.models.index(S1)
    assert p.models[0, small] == 0.0  # the planner stage does not allow the 1B model
    assert p.roles[0].tolist() == [1.0, 0.0, 0.0] and p.out_model[small] == 0.0
    c = pg.draw(np.random.default_rng(0))
    grad = pg.score_function(realise(space, c)[0])
    assert not grad.edges.any()  # edges are decided by the stages, never learned
    assert grad.models[0, small] == 0.0 and not grad.roles.any()
    assert "decided by the stages" in pg.table()


def test_over_budget_graphs_narrow_stages_then_shrink_models(pool):
    space = staged(pool, budget=9.0)
    wide = ProbabilisticGraph(space)
    wide.logits.presence[:] = 30.0  # every slot present: the widest graph
    wide.logits.models[:, 2] = 30.0
    wide.logits.out_model[2] = 30.0
    c, spec = wide.sample_choices(np.random.default_rng(0))
    check_staged(space, spec)
    assert any("width" in n for n in c.notes)


def test_too_small_a_budget_names_the_smallest_staged_graph(pool):
    with pytest.raises(SearchError, match="smallest staged graph"):
        staged(pool, budget=4.0)


def test_an_optional_stage_whose_models_are_all_too_big_is_dropped_not_refused(pool):
    stages = (Stage("plan", "planner", (S8,), (0, 1)), Stage("solve", "solver", (S1, S3), (1, 2)))
    out = StageOutput(("fuser",), (S3,))
    budget = 6.0  # an 8B node alone costs more; a 1B solver into a 3B fuser does not
    space = SearchSpace(pool=pool, models=(), budget=budget, family="math", stages=stages, stage_output=out)
    assert [st.name for st in space.stages] == ["solve"] and space.worker_slots == 2 and S8 in space.excluded
    for seed in range(20):
        _, spec = ProbabilisticGraph(space).sample_choices(np.random.default_rng(seed))
        check_staged(space, spec)
        assert all(n.role != "planner" for n in spec.nodes)
    required = (Stage("plan", "planner", (S8,), (1,)), stages[1])
    with pytest.raises(SearchError, match="stage 'plan': none of its models"):
        SearchSpace(pool=pool, models=(), budget=budget, family="math", stages=required, stage_output=out)


def test_graphs_outside_the_stages_do_not_map(pool):
    space = staged(pool, budget=None)
    skip = GraphSpec(name="skip", nodes=[NodeSpec(id="s", role="searcher", model=S1),
                                         NodeSpec(id="p", role="planner", model=S3),
                                         NodeSpec(id="out", role="fuser", model=S3)],
                     edges=[("p", "s"), ("s", "out")])  # no solve stage, which cannot be skipped
    assert from_graph(space, skip) is None
    assert from_graph(space, space.single(S8)) is None
    ok = GraphSpec(name="ok", nodes=[NodeSpec(id="s", role="searcher", model=S1),
                                     NodeSpec(id="v", role="solver", model=S8),
                                     NodeSpec(id="out", role="verifier", model=S8)],
                   edges=[("s", "v"), ("v", "out")])
    assert from_graph(space, ok) is not None


def test_exhaustive_lists_each_staged_graph_once(pool):
    space = staged(pool, budget=None)
    graphs = enumerate_graphs(space)
    # plan: none or 2 models; search: 2 widths x 2 models; solve: 3 widths x 3 models; output: 2 x 2
    assert raw_size(space) == 3 * 4 * 9 * 4 == len(graphs)
    for _, spec in graphs[::37]:
        check_staged(space, spec)
    mixed = staged(pool, budget=None, same_model=False)
    assert raw_size(mixed) == 3 * 4 * (3 + 6 + 10) * 4


def test_tpe_parameters_of_staged_choices_round_trip(pool):
    space = staged(pool, same_model=False)
    tpe = TPESearch()
    tpe.bind(space, 0)
    rng = np.random.default_rng(4)
    for _ in range(10):
        c, spec = ProbabilisticGraph(space).sample_choices(rng)
        params = tpe._params(c)
        assert set(params) == set(tpe._distributions())
        assert isomorphic(realise(space, tpe._choices(params))[1], spec)


def test_the_pilot_of_a_staged_space_stays_in_the_space(pool):
    space = staged(pool)
    rows = pilot_graphs(space)
    assert len(rows) >= len(space.models)
    for _, spec in rows:
        check_staged(space, spec)
        assert from_graph(space, spec) is not None


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_searches_a_staged_space_with_the_real_search_tool(pool, tmp_path, name):
    task = get_task("hotpotqa", data=write_qa_fixture(tmp_path / "qa.json"))
    space = staged(pool)
    config = SearchConfig(iterations=2, samples=2, batch=2, validation_items=2, test_items=2, top_candidates=2)
    options: dict = {}

    async def main():
        hub = ModelHub(pool, Settings(home=tmp_path / "home"))
        try:
            ctx = SearchContext(task=task, space=space, hub=hub, config=config,
                                toolbox=default_toolbox(hub.settings, task))
            return ctx, await run_search(ctx, make_optimizer(name, **options))
        finally:
            await hub.aclose()

    ctx, final = asyncio.run(main())
    searched = {r.graph_hash for r in ctx.trace.records if r.phase in ("pilot", "search")}
    assert len(searched) >= 2 and all(r.simulated for r in ctx.trace.records)
    for h in searched | {final.chosen_hash}:
        check_staged(space, ctx.graph(h))


BRIEF_ROLES = """
roles:
  - {name: quick_search, prompt: "Write one search query for the question as 'Query: ...'.", answers: false,
     parser: evidence, mode: search, max_tokens: 8, temperature: 0.0}
  - {name: quick_solve, prompt: "Answer in a few words.", answers: true, max_tokens: 8, temperature: 0.0}
"""


def test_a_staged_search_with_own_roles_runs_on_a_real_model_and_warm_starts_for_free(llamacpp, tmp_path):
    spec = llamacpp.spec()
    pool = ModelPool([*ModelPool.builtin(), spec])
    (tmp_path / "roles.yaml").write_text(BRIEF_ROLES)
    roles = load_roles(tmp_path / "roles.yaml")
    m = spec.id
    space = SearchSpace(pool=pool, models=(m,), budget=None, family="qa", registry=roles,
                        stages=(Stage("search", "quick_search", (m,), (1,)), Stage("solve", "quick_solve", (m,), (1,))),
                        stage_output=StageOutput(("quick_solve",), (m,)))
    data = write_qa_fixture(tmp_path / "qa.json")
    task = get_task("hotpotqa", data=data)
    args = {"name": "hotpotqa", "data": str(data)}
    config = dict(samples=1, batch=1, validation_items=1, test_items=1, top_candidates=1, compare_singles=False)

    async def search(out: Path, iterations: int, init_from: Path | None = None):
        hub = ModelHub(pool, Settings(home=tmp_path / "home"))
        try:
            return await optimize_async(task, space, make_optimizer("random"), hub=hub, out=out, task_args=args,
                                        config=SearchConfig(iterations=iterations, **config), init_from=init_from)
        finally:
            await hub.aclose()

    first = asyncio.run(search(tmp_path / "first", 1))
    assert not first.simulated and first.paid_calls > 0
    assert [n.role for n in first.best_graph.nodes] == ["quick_search", "quick_solve", "quick_solve"]
    second = asyncio.run(search(tmp_path / "second", 0, init_from=tmp_path / "first"))
    prior = [r for r in second.trace.records if r.phase == "prior"]
    assert prior and second.best_hash == first.best_hash
    assert second.paid_calls == 0  # the earlier run's calls are in the response cache


def test_a_staged_search_with_own_roles_resumes_from_its_store(pool, tmp_path):
    from .helpers import resume

    (tmp_path / "roles.yaml").write_text("roles:\n  - {name: critic, prompt: 'Correct the answers above.'}\n")
    space = staged(pool, registry=load_roles(tmp_path / "roles.yaml"))
    space = SearchSpace(pool=pool, models=(), budget=24.0, family="qa", registry=space.registry,
                        stages=space.stages, stage_output=StageOutput(("critic", "fuser"), (S3, S8)))
    data = write_qa_fixture(tmp_path / "qa.json")
    task = get_task("hotpotqa", data=data)

    async def main():
        hub = ModelHub(pool, Settings(home=tmp_path / "home"))
        try:
            return await optimize_async(task, space, make_optimizer("agent-reinforce"), hub=hub,
                                        out=tmp_path / "run", task_args={"name": "hotpotqa", "data": str(data)},
                                        config=SearchConfig(iterations=1, samples=2, batch=2, validation_items=2,
                                                            test_items=2, top_candidates=2))
        finally:
            await hub.aclose()

    first = asyncio.run(main())
    again = resume(pool, tmp_path / "home", tmp_path / "run", task)  # rebuilds the stages and the critic role
    assert again.best_hash == first.best_hash and again.test.model_dump() == first.test.model_dump()


def test_a_space_whose_only_stages_are_optional_and_too_big_says_which(pool):
    stages = (Stage("plan", "planner", (S8,), (0, 1)),)
    with pytest.raises(SearchError, match=r"stage 'plan': none of its models \(sim/llama-3.1-8b\) fits the budget 6"):
        SearchSpace(pool=pool, models=(), budget=6.0, family="math", stages=stages,
                    stage_output=StageOutput(("solver",), (S1,)))
