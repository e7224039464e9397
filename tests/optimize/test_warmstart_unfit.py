"""Evidence of graphs outside the new space (a smaller budget, fewer models) is not imported, and the warm-start
line says how much stayed behind: it said '0 evaluations ... of 0 graphs' with nothing under not carried, as if
the earlier run had scored nothing."""
from __future__ import annotations

import re

from rolegraph.optimize.trace import TRAINING_PHASES
from rolegraph.optimize.warmstart import WARM_AGENT

from .helpers import run, tiny_config, tiny_space


def test_evidence_left_behind_by_a_smaller_space_is_counted_in_the_line(pool, small_task, tmp_path):
    home = tmp_path / "home"
    first = run(pool, home, small_task, "random", out=tmp_path / "a", config=tiny_config(iterations=3))
    earlier = [r for r in first.trace.records if r.phase in TRAINING_PHASES]
    small = tiny_space(pool, budget=min(first.trace.records, key=lambda r: r.flops_units).flops_units * 1.01)
    again = run(pool, home, small_task, "random", space=small, out=tmp_path / "b", init_from=tmp_path / "a")
    imported = [r for r in again.trace.records if r.phase == "prior"]
    assert len(imported) < len(earlier)
    line = next(f for f in again.trace.feedback if f.agent == WARM_AGENT)
    notes = [h for h in line.hurt if "outside this space" in h]
    assert len(notes) == 1, line.hurt
    found = re.match(r"(\d+) evaluations of \d+ graphs", notes[0])
    assert found and int(found.group(1)) == len(earlier) - len(imported)
