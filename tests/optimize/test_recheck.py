"""The final re-check scores the leader and its strongest rival on new slices until one is clearly ahead."""
from __future__ import annotations

from rolegraph.optimize.recheck import ROUND_SHARE, bounds, contenders
from rolegraph.optimize.trace import CHARGED_PHASES, GraphStats

from .helpers import run, tiny_config

PRIOR = 0.5


def stats(h: str, n: int, acc: float, val_n: int = 0, val_acc: float = 0.0) -> GraphStats:
    s = GraphStats(h, n=n, correct=acc * n)
    s.validation_n, s.validation_correct = val_n, val_acc * val_n
    return s


def test_bounds_narrow_with_evidence_and_pool_validation_items():
    lo_few, hi_few, n_few = bounds(stats("a", 32, 0.7), PRIOR)
    lo_many, hi_many, n_many = bounds(stats("a", 320, 0.7), PRIOR)
    assert n_few == 32 and n_many == 320
    assert hi_many - lo_many < hi_few - lo_few
    assert lo_few < lo_many  # the same mean, but fewer items are shrunk harder toward the prior
    lo_val, _, n_val = bounds(stats("a", 32, 0.7, val_n=48, val_acc=0.7), PRIOR)
    assert n_val == 80 and lo_val > lo_few


def test_the_leader_and_its_strongest_rival_contend_until_separated():
    table = {"leader": stats("leader", 320, 0.66), "rival": stats("rival", 32, 0.70), "far": stats("far", 200, 0.40)}
    assert contenders(["leader", "rival", "far"], table, PRIOR) == ("leader", "rival")
    # evidence that the rival is better makes it the leader
    table["rival"] = stats("rival", 32, 0.70, val_n=400, val_acc=0.67)
    assert contenders(["leader", "rival", "far"], table, PRIOR) == ("rival", "leader")
    # a rival whose upper bound is under the leader's lower bound: nothing left to decide
    table = {"leader": stats("leader", 400, 0.70), "rival": stats("rival", 400, 0.50)}
    assert contenders(["leader", "rival"], table, PRIOR) is None
    assert contenders(["leader"], {"leader": table["leader"]}, PRIOR) is None


def test_a_search_spends_at_most_the_reserve_in_rounds_on_the_top_candidates(pool, small_task, tmp_path):
    config = tiny_config(validation_items=6, top_candidates=3, iterations=3, samples=3)
    result = run(pool, tmp_path / "home", small_task, "random", config=config)
    validation = [r for r in result.trace.records if r.phase == "validation"]
    assert "validation" in CHARGED_PHASES
    assert sum(r.n for r in validation) <= config.reserve
    assert validation and all(r.n == config.validation_items // ROUND_SHARE for r in validation)
    rounds = [validation[i:i + 2] for i in range(0, len(validation), 2)]
    assert all(len({tuple(r.items) for r in pair}) == 1 and len({r.graph_hash for r in pair}) == 2 for pair in rounds)
    assert len({tuple(pair[0].items) for pair in rounds}) == len(rounds)  # each round a new slice
    candidates = {row["hash"] for row in result.candidates}
    assert {r.graph_hash for r in validation} <= candidates
    chosen = max(result.candidates, key=lambda row: (row["combined_objective"], -row["rank"]))
    assert result.best_hash == chosen["hash"]
