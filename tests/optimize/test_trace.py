"""Pooled statistics: batch difficulty is taken out of training scores, and the choice is pessimistic."""
from __future__ import annotations

import random

from rolegraph.optimize.objectives import Objective
from rolegraph.optimize.trace import EvalRecord, batch_offsets, pooled, ranked

ACCURACY = Objective()


def _rec(seq: int, graph: str, batch: int, acc: float, n: int = 16, phase: str = "search") -> EvalRecord:
    return EvalRecord(seq=seq, iteration=batch, phase=phase, source="sampled", graph_hash=graph, objective=acc,
                      accuracy=acc, latency_s=0.0, dollars=0.0, n=n, items=[f"b{batch}-{k}" for k in range(n)])


def test_planted_batch_offsets_are_recovered_and_removed():
    """Three graphs with effects .5/.6/.7 on batches of known difficulty, each batch scoring two or three.
    The scores are noiseless and there are enough of them to see it, so the shrinkage leaves them alone."""
    effects = {"a": 0.5, "b": 0.6, "c": 0.7}
    difficulty = [0.15, -0.1, 0.05, -0.2, 0.1] * 6
    plan = [("a", "b"), ("b", "c"), ("a", "c"), ("a", "b", "c"), ("c", "a")] * 6
    records = [_rec(len(plan) * b + i, g, b, effects[g] + difficulty[b]) for b, gs in enumerate(plan)
               for i, g in enumerate(gs)]
    offsets = batch_offsets(records)
    mean = sum(difficulty[b] * 16 * len(gs) for b, gs in enumerate(plan)) / sum(16 * len(gs) for gs in plan)
    for b in range(len(plan)):
        key = tuple(sorted(f"b{b}-{k}" for k in range(16)))
        assert abs(offsets[key] - (difficulty[b] - mean)) < 1e-5
    stats = pooled(records)
    assert abs((stats["c"].accuracy - stats["a"].accuracy) - 0.2) < 1e-5
    assert abs((stats["b"].accuracy - stats["a"].accuracy) - 0.1) < 1e-5


def test_a_graph_scored_on_easy_batches_no_longer_wins():
    """'lucky' is worse than 'steady' but only ever met easy batches: raw means rank it first."""
    rng = random.Random(0)
    records, seq = [], 0
    for b in range(12):
        easy = b % 3 == 0
        shift = 0.2 if easy else -0.05
        graphs = ["steady", "lucky", "other"] if easy else ["steady", "other"]
        for g in graphs:
            base = {"steady": 0.7, "lucky": 0.62, "other": 0.55}[g]
            records.append(_rec(seq, g, b, round(base + shift + rng.uniform(-0.01, 0.01), 4)))
            seq += 1
    raw = {g: sum(r.accuracy for r in records if r.graph_hash == g) / sum(r.graph_hash == g for r in records)
           for g in ("steady", "lucky")}
    assert raw["lucky"] > raw["steady"]  # the trap is real
    assert pooled(records)["steady"].accuracy > pooled(records)["lucky"].accuracy
    assert ranked(records, ACCURACY)[0][0] == "steady"


def test_single_graph_batches_get_no_offset():
    records = [_rec(0, "a", 0, 0.9), _rec(1, "b", 1, 0.4), _rec(2, "a", 2, 0.5), _rec(3, "b", 2, 0.3)]
    offsets = batch_offsets(records)
    assert len(offsets) == 1
    assert pooled(records)["a"].n == 32


def test_validation_records_are_pooled_apart_and_unadjusted():
    records = [_rec(0, "a", 0, 0.8), _rec(1, "b", 0, 0.6), _rec(2, "a", 9, 0.5, n=48, phase="validation")]
    s = pooled(records)["a"]
    assert s.validation_n == 48 and abs(s.validation_correct - 24.0) < 1e-9
    assert s.n == 16


def test_choice_is_pessimistic_among_near_ties():
    """16 items at 0.9 against 160 at 0.75: shrinkage alone ranks the lucky-looking graph first, one
    standard error of pessimism ranks the graph with ten times the evidence first."""
    few = [_rec(0, "few", 0, 0.9, n=16), _rec(1, "mid", 0, 0.6, n=16)]
    many = [_rec(2 + k, "many", 1 + k, 0.75, n=16) for k in range(10)]
    mids = [_rec(20 + k, "mid", 1 + k, 0.6, n=16) for k in range(10)]
    records = few + many + mids
    assert ranked(records, ACCURACY)[0][0] == "many"
    assert ranked(records, ACCURACY, pessimism=0.0)[0][0] == "few"


def test_a_validation_slice_shared_by_candidates_is_adjusted_for_its_difficulty():
    """An easy slice (+0.15 for both) would lift most the candidate with the fewest training items."""
    train = [_rec(k, "few", k, 0.6) for k in range(2)] + [_rec(10 + k, "many", k, 0.6) for k in range(24)]
    train += [_rec(40 + k, "other", k, 0.5) for k in range(24)]  # shares the batches: enough to see no noise
    slice_ = [_rec(80, "few", 99, 0.75, phase="validation"), _rec(81, "many", 99, 0.75, phase="validation")]
    offsets = batch_offsets(train + slice_)
    easy, usual = tuple(sorted(slice_[0].items)), tuple(sorted(train[0].items))
    assert abs(offsets[easy] - offsets[usual] - 0.15) < 1e-5
    stats = pooled(train + slice_)
    for name in ("few", "many"):
        s = stats[name]
        assert s.validation_n == 16 and abs(s.validation_correct / s.validation_n - (0.75 - offsets[easy])) < 1e-5
    assert stats["few"].validation_correct / 16 < 0.75 - 0.05  # no longer the raw, easy-slice score


def _noisy(difficulty: list[float], per_batch: int, n: int, seed: int) -> list[EvalRecord]:
    """Binomial scores of graphs with effects .5-.7 on batches of the given difficulties."""
    rng = random.Random(seed)
    effects = [0.5, 0.55, 0.6, 0.65, 0.7]
    records = []
    for b, d in enumerate(difficulty):
        for g in rng.sample(range(len(effects)), per_batch):
            p = min(1.0, max(0.0, effects[g] + d))
            acc = sum(rng.random() < p for _ in range(n)) / n
            records.append(_rec(len(records), f"g{g}", b, acc, n=n))
    return records


def _rms(offsets: dict) -> float:
    return (sum(v * v for v in offsets.values()) / len(offsets)) ** 0.5


def test_offsets_of_batches_that_differ_only_by_noise_are_shrunk_toward_zero():
    """No batch is harder than another: the fixed-effects offsets of 16-item batches scored by two graphs are
    binomial noise (+-0.1), which would move every graph scored on them; the shrunk ones are much smaller."""
    records = _noisy([0.0] * 40, per_batch=2, n=16, seed=1)
    fixed, shrunk = batch_offsets(records, shrink=False), batch_offsets(records)
    assert _rms(fixed) > 0.05
    assert _rms(shrunk) < 0.5 * _rms(fixed)


def test_offsets_of_batches_that_really_differ_are_kept():
    """Batches +-0.2 apart, each scored by four graphs on 64 items: the difficulty is far above the noise, so
    the shrinkage keeps most of each offset."""
    rng = random.Random(2)
    difficulty = [rng.choice([-0.2, 0.0, 0.2]) for _ in range(40)]
    records = _noisy(difficulty, per_batch=4, n=64, seed=3)
    fixed, shrunk = batch_offsets(records, shrink=False), batch_offsets(records)
    assert _rms(shrunk) > 0.85 * _rms(fixed)
    keys = sorted(fixed)
    mean = sum(difficulty) / len(difficulty)
    by_key = {tuple(sorted(f"b{b}-{k}" for k in range(64))): d - mean for b, d in enumerate(difficulty)}
    assert max(abs(shrunk[k] - by_key[k]) for k in keys) < 0.1
