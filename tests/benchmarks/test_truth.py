"""The truth table's graph identity: isomorphic graphs share a truth, hash-bucket twins do not."""
from __future__ import annotations

from benchmarks.simexec import SimExecutor
from benchmarks.synthetic import synthetic_items
from benchmarks.truth import TruthTable, shape_key, unique_shapes
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

from ..graphs.wl_twins import wl_twins

ITEMS = 6


class CountingExecutor(SimExecutor):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.answered = 0

    def answer(self, *args, **kwargs):
        self.answered += 1
        return super().answer(*args, **kwargs)


def test_hash_bucket_twins_get_their_own_truth_and_copies_share_one(tmp_path):
    a, b = wl_twins()
    ex = CountingExecutor(Settings(home=tmp_path / "home", cache=False), ModelPool.builtin())
    truth = TruthTable(ex, synthetic_items("math", ITEMS, seed=1), name="twins", results_dir=tmp_path)
    truth.accuracy(a)
    truth.accuracy(b)
    assert ex.answered == 2 * ITEMS and len(truth) == 2  # b was run, not read from a's entry
    copy = a.model_copy(update={"name": "copy", "nodes": list(reversed(a.nodes))})
    truth.accuracy(copy)
    assert ex.answered == 2 * ITEMS
    assert shape_key(a) != shape_key(b) and shape_key(a) == shape_key(copy)
    assert unique_shapes([a, b]) and not unique_shapes([a, b, copy])
    truth.save()
    reread = TruthTable(ex, synthetic_items("math", ITEMS, seed=1), name="twins", results_dir=tmp_path)
    assert len(reread) == 2 and reread.accuracy(b) == truth.accuracy(b) and ex.answered == 2 * ITEMS
