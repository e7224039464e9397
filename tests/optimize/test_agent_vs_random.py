"""A small, fast version of the search-efficiency claim: at equal evaluation counts on the sim,
the default Agent-REINFORCE's chosen graph is at least as good as random search's, in median over seeds.

Each chosen graph is judged on one shared set of fresh items (other seed, more items than a search's
test split), so the comparison measures the graphs, not the luck of a 60-item test split. (The
10-seed comparison against the exhaustive optimum is `python -m benchmarks search_efficiency`; held-out
worlds are `python -m benchmarks generalization`.)

Why ten seeds: at 300 item runs on world 0's GSM the graphs random search ends on range from 44.5% to
68.5% on the judge items (measured over seeds 0-9), so a median over three seeds is a coin flip for any
method: on seeds 0-2 the Gaussian-process agent's median was 60.25% against random's 62.5%, over seeds
0-9 62.5% against 60.0%; the pre-issue-14 agent, the default again, 63.75% (65% on seeds 0-2). The
assertion is unchanged; only the sample is large enough to say something (about 55 s of CPU)."""
import asyncio
import statistics

from rolegraph.evaluate.runner import evaluate
from rolegraph.graphs.io import graph_hash
from rolegraph.models.hub import ModelHub
from rolegraph.optimize.api import make_optimizer
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task

from .helpers import run, tiny_config, tiny_space

SEEDS = tuple(range(10))
EVALUATIONS = 300
TASK_SIZE = 240
BATCH = 12
JUDGE_ITEMS = 400
JUDGE_SEED = 99


def _judge(pool, home, graphs, task) -> list[float]:
    """Each graph's accuracy on the judge items; a graph chosen again (by another seed or method: 3 of the 20 on
    seeds 0-9) is scored once, as its second evaluation gave the same figure from the same cache."""

    async def main() -> list[float]:
        hub = ModelHub(pool, Settings(home=home))
        try:
            items = task.items("all")[:JUDGE_ITEMS]
            scored: dict[str, float] = {}
            for g in graphs:
                if graph_hash(g) not in scored:
                    result = await evaluate(g, task, items, hub=hub, concurrency=32, progress=False)
                    scored[graph_hash(g)] = result.accuracy
            return [scored[graph_hash(g)] for g in graphs]
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
        for name in chosen:
            opt = make_optimizer(name)
            result = run(pool, tmp_path / "home", task, opt, space=space, config=cfg)
            assert result.evaluations <= EVALUATIONS
            chosen[name].append(result.best_graph)
    judge = get_task("gsm", size=JUDGE_ITEMS, seed=JUDGE_SEED)
    judged = _judge(pool, tmp_path / "judge", [*chosen["agent-reinforce"], *chosen["random"]], judge)
    scores = {"agent-reinforce": judged[:len(SEEDS)], "random": judged[len(SEEDS):]}
    assert statistics.median(scores["agent-reinforce"]) >= statistics.median(scores["random"]), scores
