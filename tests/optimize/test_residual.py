"""noise_scale: how much of the binomial noise is left between graphs scored on the same batches."""
from __future__ import annotations

import numpy as np
import pytest

from rolegraph.optimize.residual import MIN_DEGREES, SCALE_FLOOR, noise_scale
from rolegraph.optimize.trace import EvalRecord

BATCH = 16


def records(shared: float, batches: int = 40, graphs: int = 3, seed: int = 0) -> list[EvalRecord]:
    """`graphs` graphs of true accuracy 0.6 on the same batches; per item each is right with a shared
    item draw with probability `shared`, else its own draw (shared=1: identical outcomes)."""
    rng = np.random.default_rng(seed)
    out, seq = [], 0
    for b in range(batches):
        items = [f"b{b}-i{i}" for i in range(BATCH)]
        common = rng.random(BATCH) < 0.6
        for g in range(graphs):
            own = rng.random(BATCH) < 0.6
            right = np.where(rng.random(BATCH) < shared, common, own)
            out.append(EvalRecord(seq=seq, iteration=b, phase="search", source="sampled", graph_hash=f"g{g}",
                                  objective=float(right.mean()), accuracy=float(right.mean()), latency_s=0.0,
                                  dollars=0.0, n=BATCH, items=items))
            seq += 1
    return out


def test_independent_graphs_keep_the_binomial_noise():
    assert noise_scale(records(shared=0.0)) == pytest.approx(1.0, abs=0.12)


def test_graphs_that_share_their_items_outcomes_have_less_noise_between_them():
    """Each item's outcome shared with probability s: two graphs' outcomes correlate s^2, so the residual
    variance is (1 - s^2) of the binomial's (s = 0.75: scale 0.66); nearly all shared: down to the floor."""
    for seed in range(3):
        assert noise_scale(records(shared=0.75, seed=seed)) == pytest.approx(np.sqrt(1 - 0.75**2), abs=0.06)
    assert noise_scale(records(shared=0.98)) == SCALE_FLOOR


def test_too_little_shared_evidence_says_binomial():
    few = records(shared=0.98, batches=2, graphs=2)
    assert len(few) - 2 - 2 + 1 < MIN_DEGREES and noise_scale(few) == 1.0
    alone = [r for r in records(shared=0.98) if r.graph_hash == "g0"]  # one graph per batch: no offsets
    assert noise_scale(alone) == 1.0
