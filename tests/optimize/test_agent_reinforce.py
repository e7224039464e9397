"""Agent-REINFORCE's parts: a pilot that assumes nothing about the models, racing of the leader against its
strongest rival, and the ablations (the pilot alone, no racing)."""
import asyncio

import pytest

from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.optimize.agent_reinforce import AgentReinforce, pilot_graphs, racing_pair
from rolegraph.optimize.context import SearchConfig, SearchContext
from rolegraph.optimize.proposal import Proposal
from rolegraph.optimize.space import SearchSpace

ONE_B, THREE_B, EIGHT_B = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"


def space(pool, budget: float, max_nodes: int = 6) -> SearchSpace:
    return SearchSpace(pool=pool, models=(ONE_B, THREE_B, EIGHT_B), roles=("solver", "fuser"), max_nodes=max_nodes,
                       budget=budget)


@pytest.mark.parametrize("budget", [18.0, 42.0])
def test_the_pilot_is_each_model_alone_and_each_models_own_ensemble_only(pool, budget):
    sp = space(pool, budget)
    graphs = [g for _, g in pilot_graphs(sp)]
    singles = [g for g in graphs if len(g.nodes) == 1]
    assert sorted(g.nodes[0].model for g in singles) == sorted(sp.models)
    for g in graphs:
        assert sp.fits(g) and len({n.model for n in g.nodes}) == 1  # no mixed graph: no assumed ranking of models
    ensembles = {g.nodes[0].model for g in graphs if len(g.nodes) > 1}
    assert (EIGHT_B in ensembles) == (budget == 42.0)  # two 8B solvers and an 8B fuser cost more than 18


def _graph(models: list[str], out: str) -> GraphSpec:
    nodes = [NodeSpec(id=f"n{i}", role="solver", model=m) for i, m in enumerate(models)]
    nodes.append(NodeSpec(id="out", role="fuser", model=out))
    return GraphSpec(name="g", nodes=nodes, edges=[(f"n{i}", "out") for i in range(len(models))], output="out")


class _Scripted:
    """An executor whose graphs score a fixed share of every batch (by the first worker's model)."""

    name = "scripted"
    in_process = False

    def __init__(self, rates: dict[tuple[str, ...], float]):
        self.rates = rates

    async def run_items(self, spec, task, items, results, simulated, **_):
        from rolegraph.evaluate.result import ItemScore

        rate = self.rates[tuple(n.model for n in spec.nodes)]
        hits = round(rate * len(items))
        for i, item in enumerate(items):
            results[i] = ItemScore(item_id=item.id, score=float(i < hits), answer="x", gold=item.gold)
            simulated[i] = True

    def close(self):
        pass


def _context(pool, small_task, tmp_path, rates) -> SearchContext:
    from rolegraph.models.hub import ModelHub
    from rolegraph.settings import Settings

    return SearchContext(task=small_task, space=space(pool, 42.0), hub=ModelHub(pool, Settings(home=tmp_path)),
                         config=SearchConfig(batch=8), executor=_Scripted(rates))


def test_racing_pairs_the_leader_with_the_rival_that_could_still_beat_it(pool, small_task, tmp_path):
    strong, close, weak = _graph([THREE_B, THREE_B], THREE_B), _graph([EIGHT_B], EIGHT_B), _graph([ONE_B], ONE_B)
    rates = {(THREE_B, THREE_B, THREE_B): 0.75, (EIGHT_B, EIGHT_B): 0.5, (ONE_B, ONE_B): 0.125}
    ctx = _context(pool, small_task, tmp_path, rates)

    async def score(graphs, rounds):
        for it in range(rounds):
            await ctx.evaluate([Proposal(g, None) for g in graphs], ctx.batch(it + 1), it + 1, "search")

    asyncio.run(score([strong, close, weak], 1))
    pair = racing_pair(ctx)
    assert [len(g.nodes) for g in pair] == [3, 2]  # the leader, then the rival with the best upper bound
    asyncio.run(score([strong, close, weak], 12))
    assert racing_pair(ctx) == []  # 13 batches apart: the rival's upper bound is below the leader's lower bound


def test_pilot_only_is_the_pilot_then_plain_samples(pool, small_task, tmp_path):
    from .helpers import run, tiny_config, tiny_space

    opt = AgentReinforce(pilot_batch=4, learn=False, race=False)  # the GP agent's own ablation (the named
    assert opt.name == "agent-reinforce:pilot-only" and not opt.learn and not opt.race  # one: the default's)
    result = run(pool, tmp_path / "home", small_task, opt, space=tiny_space(pool), config=tiny_config(iterations=2))
    assert result.optimizer == "agent-reinforce:pilot-only"
    assert [f.iteration for f in result.trace.feedback] == [0]  # the pilot's feedback only
    search = [r for r in result.trace.records if r.phase == "search"]
    assert search and {r.source for r in search} == {"sampled"}
    assert result.feedback_agent is None


def test_the_full_agent_proposes_and_races(pool, small_task, tmp_path):
    from .helpers import run, tiny_config, tiny_space

    result = run(pool, tmp_path / "home", small_task, AgentReinforce(pilot_batch=4), space=tiny_space(pool),
                 config=tiny_config(iterations=4, samples=4))
    sources = {r.source for r in result.trace.records if r.phase == "search"}
    assert "proposed" in sources and "racing" in sources
    assert [f.iteration for f in result.trace.feedback] == [0, 1, 2, 3, 4]
