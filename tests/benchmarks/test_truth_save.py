"""The truth cache is saved whole or not at all (`fileio.write_atomic`), under a temp name of its own: a failed save
leaves the previous cache readable and nothing beside it (a fixed `<name>.tmp` was shared by parallel jobs)."""
from __future__ import annotations

import os

import pytest

from benchmarks.simexec import SimExecutor
from benchmarks.synthetic import synthetic_items
from benchmarks.truth import TruthTable
from rolegraph.graphs.builder import Graph
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

ITEMS = 4


def _table(tmp_path) -> TruthTable:
    ex = SimExecutor(Settings(home=tmp_path / "home", cache=False), ModelPool.builtin())
    return TruthTable(ex, synthetic_items("math", ITEMS, seed=1), name="atomic", results_dir=tmp_path)


def test_a_failed_save_leaves_the_previous_cache_and_no_temp_file(tmp_path, monkeypatch):
    first = _table(tmp_path)
    first.accuracy(Graph("one").node("a", "solver", "sim/llama-3.1-8b").build())
    first.save()
    before = first.path.read_bytes()
    second = _table(tmp_path)
    second.accuracy(Graph("two").node("a", "solver", "sim/llama-3.2-1b").build())

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        second.save()
    monkeypatch.undo()
    assert first.path.read_bytes() == before
    assert sorted(p.name for p in first.cache_dir.iterdir()) == [first.path.name]
    assert len(_table(tmp_path)) == 1


def test_ctrl_c_while_scoring_keeps_the_graphs_already_scored(tmp_path, monkeypatch):
    # the table was saved every SAVE_EVERY graphs only: a Ctrl-C lost up to 24 graphs' scoring
    from benchmarks.searchbench import Bench

    table = _table(tmp_path)
    models = ("sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b")
    graphs = [Graph(m).node("a", "solver", m).build() for m in models]
    scored = TruthTable.accuracy

    def stop_at_the_third(self, spec):
        if spec is graphs[2]:
            raise KeyboardInterrupt
        return scored(self, spec)

    monkeypatch.setattr(TruthTable, "accuracy", stop_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        Bench._score(table, graphs)
    monkeypatch.undo()
    assert len(_table(tmp_path)) == 2
