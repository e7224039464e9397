"""The search-wide dollar meter behind `--max-dollars`: paid calls only, across stops and resumes.

A search on real endpoints spends money on every call the response cache cannot answer. The meter
counts those dollars (the hub's `paid_usd`, at the pool's prices) plus what earlier sessions of
the same run spent (kept in the run store), and, installed as the hub's spend guard, refuses a paid
call whose worst case (its prompt plus `max_tokens` of output) would take the total past the cap.
The refusal stops the search: what the interrupted step computed is not recorded, the last
checkpoint stays as it was, and the calls already paid are in the cache, so `--resume` with a higher
`--max-dollars` replays them free and continues. Cached calls cost nothing and are never refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import Message
from rolegraph.errors import BudgetExceededError, SearchError
from rolegraph.graphs.budget import estimate_prompt_tokens
from rolegraph.models.hub import CallStats
from rolegraph.models.in_flight import INTERRUPT_WAIT_S, InFlightCalls
from rolegraph.money import money


class DollarCapReachedError(SearchError):
    """`--max-dollars` reached: the search stopped at its last checkpoint (a user's limit, exit 2)."""


@dataclass
class SpendMeter:
    """Paid dollars of one search: `before` (earlier sessions) + what the hub paid since `baseline`."""

    stats: CallStats
    max_usd: float | None = None
    before: float = 0.0
    baseline: float = field(default=0.0)
    held: Fraction = field(default_factory=Fraction)
    """Worst-case dollars of the paid calls in flight, kept exact as `CallStats.add_paid` keeps its sum: a float
    += and -= in another order (calls finish out of order) ended at -4e-20, and the cap message then told of
    dollars in flight when none was."""
    run_dir: str | None = None  # named in the stop message's --resume hint
    refused: str | None = None
    """Why a paid call was refused; once set, every later paid call is refused too (calls of the
    interrupted step still running must not slip under the cap as in-flight ones finish)."""

    @classmethod
    def start(
        cls, stats: CallStats, max_usd: float | None, before: float = 0.0, run_dir: str | None = None
    ) -> SpendMeter:
        return cls(stats=stats, max_usd=max_usd, before=before, baseline=stats.paid_usd, run_dir=run_dir)

    @property
    def spent(self) -> float:
        return self.before + self.stats.paid_usd - self.baseline

    def reserve(self, spec: ModelSpec, messages: list[Message], max_tokens: int) -> float:
        """Hold the call's worst-case dollars, or refuse it when they would pass the cap."""
        chars = sum(len(str(m.get("content") or "")) for m in messages)
        worst = spec.cost(estimate_prompt_tokens(chars), max_tokens)
        if self.refused is not None:
            raise BudgetExceededError(f"dollar cap: {self.refused}")
        if self.max_usd is not None and self.spent + self.held + worst > self.max_usd:
            self.refused = (
                f"{money(self.spent)} spent on paid calls + {money(float(self.held))} in flight + up to {money(worst)} "
                f"for the next call of {spec.id} > --max-dollars {money(self.max_usd)}"  # `money`: sub-cent calls
                # keep significant figures (never $0.0000) without the scientific notation of :g ("$7.51e-05")
            )
            raise BudgetExceededError(f"dollar cap: {self.refused}")
        self.held += Fraction(worst)
        return worst

    def hold(self, dollars: float) -> None:
        """Set `dollars` aside without a call (a Ray chunk's allowance, `ray_capped`); `release` frees it."""
        self.held += Fraction(dollars)

    def release(self, held: float) -> None:
        self.held -= Fraction(held)

    def check(self) -> None:
        """Between steps: stop once the cap is spent (a step of cached calls only would still be free,
        but there is nothing to gain from starting one that must pay)."""
        if self.max_usd is not None and self.spent >= self.max_usd:
            self.refused = f"{money(self.spent)} spent on paid calls >= --max-dollars {money(self.max_usd)}"
            raise self.stop_error()

    def stop_error(self, where: str = "") -> DollarCapReachedError:
        at = f" during the {where} step" if where else ""
        how = (
            f"continue with --resume {self.run_dir} --max-dollars HIGHER"
            if self.run_dir
            else "run it with a run directory (out=...) to resume it"
        )
        return DollarCapReachedError(
            f"dollar cap reached{at}: {self.refused}; the search stopped at its last checkpoint and the calls "
            f"already paid are in the response cache: {how}"
        )


async def end_step(tasks: Sequence[asyncio.Future], in_flight: InFlightCalls) -> None:
    """End a step's evaluations (a no-op on finished ones), then wait for their real calls on the wire
    under the cap (`models.in_flight`) before the stop goes on: paid upstream whether or not read, they are
    counted (the run's ledger is still open) and cached, so `--resume` replays them free instead of paying
    again. A stop by the cap waits for them all; an interrupt (Ctrl-C, SIGTERM: this task is being cancelled)
    at most `INTERRUPT_WAIT_S`, and says so."""
    current = asyncio.current_task()
    interrupted = current is not None and current.cancelling() > 0
    with in_flight.patient(not interrupted):
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await in_flight.settle(INTERRUPT_WAIT_S if interrupted else None)


@dataclass(frozen=True)
class TimedOutTally:
    """The run's requests abandoned at their `timeout_s` (`CallStats.timed_out`) and their worst case in dollars,
    over all its sessions: what earlier sessions stored (`before`, `timed_out_before`) and what the hub counted
    since this one began (from `baseline`; a hub lives longer than a search).

    Why the run's total: `paid_usd` is, so a resumed search that reported only its own session's abandoned requests
    read as if the earlier session's, which the endpoint may have billed, never happened."""

    stats: CallStats
    before: tuple[int, float]
    baseline: tuple[int, float]

    @classmethod
    def start(cls, stats: CallStats, before: tuple[int, float] = (0, 0.0)) -> TimedOutTally:
        return cls(stats, before, (stats.timed_out_attempts, stats.timed_out_usd))

    @property
    def total(self) -> tuple[int, float]:
        """(attempts, worst-case dollars) of the run so far."""
        attempts = self.before[0] + self.stats.timed_out_attempts - self.baseline[0]
        return attempts, self.before[1] + max(0.0, self.stats.timed_out_usd - self.baseline[1])
