"""A spy on the wall time each measured run was assembled with (what `run_assembly.alone_wall_s` is handed), and
the longest chains of a run's node times. Tests of a run's reported latency compute what it must be from the run's
own recorded times and that wall (its calls' latencies along the critical path, plus the framework's own time: the
wall beyond the measured critical path), instead of bounding the framework's time by a guess about this machine."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pytest

from rolegraph.graphs import run_assembly
from rolegraph.graphs.result import NodeTrace
from rolegraph.graphs.schedule import Topology

Walls = list[tuple[list[NodeTrace], float]]


def spy_on_walls(monkeypatch: pytest.MonkeyPatch) -> Walls:
    """For the rest of the test, each assembled measured run appends (its traces, its measured wall)."""
    seen: Walls = []
    real = run_assembly.alone_wall_s

    def spy(
        topo: Topology,
        traces: Sequence[NodeTrace],
        wall: float,
        model_of: Mapping[str, str],
        slots: Mapping[str, int],
        shared: Mapping[str, str] | None = None,
    ) -> float:
        seen.append((list(traces), wall))
        return real(topo, traces, wall, model_of, slots, shared)

    monkeypatch.setattr(run_assembly, "alone_wall_s", spy)
    return seen


def longest_chain(traces: list[NodeTrace], time_of: Callable[[NodeTrace], float] = lambda t: t.latency_s) -> float:
    """The longest chain of node times (latencies, unless `time_of` says otherwise) along what each trace read
    (written here, not the runtime's)."""
    by_id = {t.id: t for t in traces}
    ends: dict[str, float] = {}

    def end(t: NodeTrace) -> float:
        if t.id not in ends:
            ends[t.id] = time_of(t) + max((end(by_id[i]) for i in t.inputs if i in by_id), default=0.0)
        return ends[t.id]

    return max(end(t) for t in traces)


def measured_chain(traces: list[NodeTrace]) -> float:
    """The longest chain of the nodes' measured spans (end - start: a wait for a slot included)."""
    return longest_chain(traces, lambda t: t.end_s - t.start_s)


def framework_s(walls: Walls, traces: list[NodeTrace]) -> float:
    """The framework's own time in the run of `traces`: its measured wall beyond its measured critical path."""
    wall = next(w for seen, w in walls if seen == traces)
    return max(0.0, wall - measured_chain(traces))
