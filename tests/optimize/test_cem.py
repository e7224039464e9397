"""The cross-entropy ablation: probabilities move toward the elite's choices, and only there."""
import asyncio

import numpy as np

from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.optimize.cem import SMOOTHING, CrossEntropySearch
from rolegraph.optimize.space import SearchSpace

ONE_B, THREE_B, EIGHT_B = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"


def _graph(models: list[str], out: str) -> GraphSpec:
    nodes = [NodeSpec(id=f"n{i}", role="solver", model=m) for i, m in enumerate(models)]
    nodes.append(NodeSpec(id="out", role="fuser", model=out))
    return GraphSpec(name="g", nodes=nodes, edges=[(f"n{i}", "out") for i in range(len(models))], output="out")


class _Board:
    def __init__(self, rows):
        self.rows = rows

    def leaderboard(self):
        return self.rows


def test_probabilities_move_toward_the_elite(pool):
    sp = SearchSpace(pool=pool, models=(ONE_B, THREE_B, EIGHT_B), roles=("solver", "fuser"), max_nodes=4,
                     budget=42.0, worker_edges=False)
    opt = CrossEntropySearch(elite_share=0.2)
    opt.bind(sp, 0)
    before = opt.pg.probs()
    elite = [_graph([THREE_B, THREE_B, THREE_B], EIGHT_B), _graph([THREE_B, THREE_B, THREE_B], EIGHT_B)]
    rest = [_graph([ONE_B], ONE_B) for _ in range(8)]
    rows = [(g, 0.8, 16) for g in elite] + [(g, 0.3, 16) for g in rest]
    asyncio.run(opt.observe(1, [], _Board(rows)))
    after = opt.pg.probs()
    k8, k3 = sp.models.index(EIGHT_B), sp.models.index(THREE_B)
    expected = (1 - SMOOTHING) * before.out_model[k8] + SMOOTHING * 1.0
    assert abs(after.out_model[k8] - expected) < 1e-6
    assert np.all(after.models[:, k3] > before.models[:, k3])
    assert np.all(after.presence > before.presence)  # all three slots present in the elite


def test_too_small_an_elite_changes_nothing(pool):
    sp = SearchSpace(pool=pool, models=(ONE_B, THREE_B), roles=("solver", "fuser"), max_nodes=3, budget=42.0)
    opt = CrossEntropySearch()
    opt.bind(sp, 0)
    before = opt.pg.to_dict()
    asyncio.run(opt.observe(1, [], _Board([(_graph([ONE_B], ONE_B), 0.5, 4)])))
    assert opt.pg.to_dict() == before
