"""A small, fast version of the search-efficiency claim: at equal evaluation counts on the sim,
Agent-REINFORCE's chosen graph scores at least as well as random search's, in median over seeds.
(The 5-seed comparison with larger batches is a benchmark; its figures are in the report.)"""
import statistics

from rolegraph.optimize.agent_reinforce import AgentReinforce
from rolegraph.optimize.baselines.random_search import RandomSearch
from rolegraph.tasks.registry import get_task

from .helpers import run, tiny_config, tiny_space

SEEDS = (0, 1, 2)
EVALUATIONS = 300
TASK_SIZE = 240
BATCH = 12


def test_agent_reinforce_beats_random_in_median(pool, tmp_path):
    task = get_task("gsm", size=TASK_SIZE)
    space = tiny_space(pool, max_nodes=5)
    scores: dict[str, list[float]] = {"agent-reinforce": [], "random": []}
    for seed in SEEDS:
        cfg = tiny_config(iterations=None, max_evaluations=EVALUATIONS, samples=3, batch=BATCH, validation_items=16,
                          top_candidates=2, test_items=60, seed=seed)
        for name, opt in (("agent-reinforce", AgentReinforce(pilot_batch=BATCH)), ("random", RandomSearch())):
            result = run(pool, tmp_path / "home", task, opt, space=space, config=cfg)
            assert result.evaluations <= EVALUATIONS
            scores[name].append(result.test.accuracy)
    assert statistics.median(scores["agent-reinforce"]) >= statistics.median(scores["random"]), scores
