"""Run budgets: caps on tokens, dollars and seconds, checked BEFORE every model call.

A check reserves the call's worst case (its prompt plus `max_tokens` of output) until the call
returns, so nodes running in parallel cannot jointly overshoot a cap. Exceeding a cap raises
`BudgetExceededError`; the runtime attaches the partial RunResult. Never silent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import ConfigDict, Field

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import BudgetExceededError, RolegraphError
from rolegraph.graphs.checked import CheckedModel
from rolegraph.money import money

CHARS_PER_TOKEN_WORST = 3.0  # conservative prompt-size estimate (English BPE averages ~4 chars/token)


class BudgetError(RolegraphError):
    """A `Budget` given caps it cannot have (zero or negative, a fraction of a token, an unknown cap): a mistake
    in the arguments, apart from `BudgetExceededError`, which is a run reaching a cap."""


class Budget(CheckedModel):
    """Caps for one run; None means no cap. Bad caps are a `BudgetError` naming each one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tokens: int | None = Field(default=None, gt=0, description="input + output tokens of all calls")
    max_usd: float | None = Field(default=None, gt=0, description="dollars of all calls")
    max_seconds: float | None = Field(default=None, gt=0, description="run time before a call starts")

    @classmethod
    def user_error(cls, lines: list[str]) -> RolegraphError:
        return BudgetError(f"Budget: {'; '.join(lines)}")

    @property
    def unlimited(self) -> bool:
        return self.max_tokens is None and self.max_usd is None and self.max_seconds is None


def estimate_prompt_tokens(prompt_chars: int) -> int:
    return math.ceil(prompt_chars / CHARS_PER_TOKEN_WORST)


@dataclass(slots=True)
class Reservation:
    tokens: int
    usd: float


class BudgetMeter:
    """Spend of one run so far, plus what in-flight calls may still spend."""

    __slots__ = ("budget", "tokens", "usd", "_held_tokens", "_held_usd")

    def __init__(self, budget: Budget | None = None):
        self.budget = budget or Budget()
        self.tokens = 0
        self.usd = 0.0
        self._held_tokens = 0
        self._held_usd = 0.0

    def reserve(
        self, node_id: str, spec: ModelSpec, prompt_chars: int, max_tokens: int, elapsed_s: float
    ) -> Reservation | None:
        """Check the caps against spend + in-flight + this call's worst case; hold that worst case.

        Returns None when the budget is unlimited (nothing to hold).
        """
        b = self.budget
        if b.unlimited:
            return None
        where = f"before node '{node_id}' ({spec.id})"
        if b.max_seconds is not None and elapsed_s >= b.max_seconds:
            raise BudgetExceededError(
                f"time budget exceeded {where}: {elapsed_s:.2f} s elapsed of max_seconds {b.max_seconds:g}"
            )
        prompt = estimate_prompt_tokens(prompt_chars)
        tokens = prompt + max_tokens
        usd = spec.cost(prompt, max_tokens)
        if b.max_tokens is not None and self.tokens + self._held_tokens + tokens > b.max_tokens:
            raise BudgetExceededError(
                f"token budget exceeded {where}: {self.tokens} spent + {self._held_tokens} in flight + up to "
                f"{tokens} for this call > max_tokens {b.max_tokens}"
            )
        if b.max_usd is not None and self.usd + self._held_usd + usd > b.max_usd:
            raise BudgetExceededError(
                f"dollar budget exceeded {where}: {money(self.usd)} spent + {money(self._held_usd)} in flight + up to "
                f"{money(usd)} for this call > max_usd {money(b.max_usd)}"
            )
        self._held_tokens += tokens
        self._held_usd += usd
        return Reservation(tokens, usd)

    def shortfall(self, tokens: int, usd: float, elapsed_s: float) -> str | None:
        """Why `tokens` and `usd` more (a spawn's worst case) would break a cap now; None when they fit.

        Unlike `reserve`, this never raises: a fan-out or a loop asks it before spawning more work and
        stops spawning instead of failing the run.
        """
        b = self.budget
        if b.unlimited:
            return None
        if b.max_seconds is not None and elapsed_s >= b.max_seconds:
            return f"time budget: {elapsed_s:.2f} s of {b.max_seconds:g} s elapsed"
        if b.max_tokens is not None and self.tokens + self._held_tokens + tokens > b.max_tokens:
            return f"token budget: {self.tokens + self._held_tokens} spent or held + up to {tokens} > {b.max_tokens}"
        if b.max_usd is not None and self.usd + self._held_usd + usd > b.max_usd:
            held = money(self.usd + self._held_usd)
            return f"dollar budget: {held} spent or held + up to {money(usd)} > {money(b.max_usd)}"
        return None

    def hold(self, tokens: int, usd: float) -> Reservation | None:
        """Hold `tokens` and `usd` for work about to start (released with `release`); None when unlimited."""
        if self.budget.unlimited:
            return None
        self._held_tokens += tokens
        self._held_usd += usd
        return Reservation(tokens, usd)

    def release(self, held: Reservation | None) -> None:
        if held is not None:
            self._held_tokens -= held.tokens
            self._held_usd -= held.usd

    def spend(self, tokens: int, usd: float) -> None:
        self.tokens += tokens
        self.usd += usd
