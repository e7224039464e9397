"""A small, fast version of the search-efficiency claim: at equal evaluation counts on the sim,
Agent-REINFORCE's chosen graph is at least as good as random search's, in median over seeds.

Each chosen graph is judged on one shared set of fresh items (other seed, more items than a search's
test split), so the comparison measures the graphs, not the luck of a 60-item test split. (The
10-seed comparison against the exhaustive optimum is `python -m benchmarks search_efficiency`.)"""
import asyncio
import statistics

from rolegraph.evaluate.runner import evaluate
from rolegraph.models.hub import ModelHub
from rolegraph.optimize.agent_reinforce import AgentReinforce
from rolegraph.optimize.baselines.random_search import RandomSearch
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task

from .helpers import run, tiny_config, tiny_space

SEEDS = (0, 1, 2)
EVALUATIONS = 300
TASK_SIZE = 240
BATCH = 12
JUDGE_ITEMS = 400
JUDGE_SEED = 99


def _judge(pool, home, graphs, task) -> list[float]:
    async def main() -> list[float]:
        hub = ModelHub(pool, Settings(home=home))
        try:
            items = task.items("all")[:JUDGE_ITEMS]
            return [(await evaluate(g, task, items, hub=hub, concurrency=32, progress=False)).accuracy for g in graphs]
        finally:
            await hub.aclose()

    return asyncio.run(main())


def test_agent_reinforce_beats_random_in_median(pool, tmp_path):
    task = get_task("gsm", size=TASK_SIZE)
    space = tiny_space(pool, max_nodes=5)
    chosen: dict[str, list] = {"agent-reinforce": [], "random": []}
    for seed in SEEDS:
        cfg = tiny_config(iterations=None, max_evaluations=EVALUATIONS, samples=3, batch=BATCH, validation_items=16,
                          top_candidates=2, test_items=12, seed=seed)
        for name, opt in (("agent-reinforce", AgentReinforce(pilot_batch=BATCH)), ("random", RandomSearch())):
            result = run(pool, tmp_path / "home", task, opt, space=space, config=cfg)
            assert result.evaluations <= EVALUATIONS
            chosen[name].append(result.best_graph)
    judge = get_task("gsm", size=JUDGE_ITEMS, seed=JUDGE_SEED)
    scores = {name: _judge(pool, tmp_path / "judge", graphs, judge) for name, graphs in chosen.items()}
    assert statistics.median(scores["agent-reinforce"]) >= statistics.median(scores["random"]), scores
