"""A spy on tenacity's `stop_after_delay` as one module of the product builds it: the deadline each polling loop was
given and whether the loop ran out of it. Tests of a give-up deadline assert these instead of the wall time a call
took (timing goals live in benchmarks/): the deadline used is the configured one, and the loop ended by running out
of it (or never needed it), whatever the machine's load."""

from __future__ import annotations

from types import ModuleType

import pytest
from tenacity import RetryCallState, stop_after_delay


class SpiedStop(stop_after_delay):
    """The real stop (it still decides on tenacity's clock), which also counts how often it was asked, after a failed
    attempt, whether time is up, and remembers whether it ever answered yes."""

    def __init__(self, max_delay: float) -> None:
        super().__init__(max_delay)
        self.asked = 0
        self.ran_out = False

    def __call__(self, retry_state: RetryCallState) -> bool:
        done = super().__call__(retry_state)
        self.asked += 1
        self.ran_out = self.ran_out or done
        return done


class StopSpy:
    """Every `SpiedStop` the spied module built, in order."""

    def __init__(self) -> None:
        self.stops: list[SpiedStop] = []

    def __call__(self, max_delay: float) -> SpiedStop:
        stop = SpiedStop(max_delay)
        self.stops.append(stop)
        return stop

    @property
    def delays(self) -> list[float]:
        return [stop.max_delay for stop in self.stops]


def spy_on_stop_after_delay(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> StopSpy:
    """Replace `module.stop_after_delay` (its own import of it) with a spy for the rest of the test."""
    spy = StopSpy()
    monkeypatch.setattr(module, "stop_after_delay", spy)
    return spy
