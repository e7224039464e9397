"""What the hub keeps about paid calls: their dollars (`CallStats`), the guard that admits them (`SpendGuard`), and
the calls still in flight when their callers were cancelled (`InFlightCalls`).

Why a sent call outlives its caller: a stop (the dollar cap refusing a sibling call, Ctrl-C, SIGTERM) cancels the
evaluations of a step, but a request already sent is billed by the endpoint whether or not anyone reads the reply.
Cancelled with its caller, that reply was neither counted (`paid_usd`) nor cached, and `--resume` sent the same
request again and paid for it twice. So a real endpoint's call runs through the response cache as a task of its
own, shielded from its caller's cancellation while a request of it is on the wire (the backend marks each attempt,
`sending`, under its concurrency limit, after the spend guard reserved the call's worst case under the cap, so
finishing it cannot pass the cap; a call still queued for a slot is cancelled unsent, and a kept call sends no
retry); the stop then waits for it (`settle`), and its reply is counted and cached as if the caller had waited, so
the resume finds it in the cache and pays nothing. A coalesced call split into several `n` requests (or k plain
ones) is kept once one part was sent, so the parts answered or on the wire come back, but from then on none of its
parts is sent (`sending` raises `Unsent`): the queued parts are cancelled unsent, and the call ends `Unsent` with
the sent parts' samples (`Unsent.done`), which the hub's layers count and cache one entry per sample on the way
up, so a resume sends only the parts never sent.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, TypeVar

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import Completion, Message

T = TypeVar("T")
_UNIT_BITS = 1074
_UNIT = 1 << _UNIT_BITS

LEFT_NOT_KEPT = "their replies are not kept, so running it again sends them again"
"""What leaving calls in flight costs (a resumed search, a rerun eval: both find nothing of them in the cache)."""
INTERRUPT_WAIT_S = 30.0
"""How long Ctrl-C or SIGTERM waits for the paid calls in flight before leaving them (a second Ctrl-C leaves
them at once): long enough for a typical reply to finish, short enough that a stop still feels like one."""


@dataclass
class CallStats:
    calls: int = 0
    cached: int = 0
    paid_usd: float = 0.0
    """Dollars of the calls the cache did not answer (at the pool's prices), summed exactly (`add_paid`)."""
    on_paid: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    """Called after every `add_paid`: a search's ledger stores its dollars there (`checkpoint.PaidLedger`)."""
    _units: int = field(default=0, repr=False, compare=False)
    """`paid_usd` exactly, in units of 2**-1074 (`_in_units`)."""
    timed_out: dict[str, int] = field(default_factory=dict)
    """Attempts abandoned at their model's `timeout_s`, by model id (`timeouts.py`), retried or failing their call:
    the endpoint may bill each (it never learns the client stopped waiting), and none is in `calls`, `paid_usd` or
    a reply's tokens, so this is where a caller (and a run's stored stats) finds them."""
    timed_out_usd: float = 0.0
    """Those attempts' worst case at the pool's prices (prompt estimated high, `max_tokens` out per choice)."""

    @property
    def paid(self) -> int:
        return self.calls - self.cached

    @property
    def timed_out_attempts(self) -> int:
        """Attempts of every model abandoned at their `timeout_s` (`timed_out` summed)."""
        return sum(self.timed_out.values())

    def add_paid(self, dollars: float) -> None:
        """Add a paid call's dollars. A float sum depends on the order of its terms (0.1278...86 vs ...83 for the
        same calls finishing in another order), so the sum is kept exact and `paid_usd` is it rounded once (an
        int's true division rounds correctly, as a Fraction's float does)."""
        if self._units / _UNIT != self.paid_usd:  # set directly (a test, an older caller): start from it
            self._units = _in_units(self.paid_usd)
        self._units += _in_units(dollars)
        self.paid_usd = self._units / _UNIT
        if self.on_paid is not None:
            self.on_paid()


def _in_units(dollars: float) -> int:
    """`dollars` as a whole number of 2**-1074, the smallest float step, so every float is one exactly. Why not a
    `Fraction`: the same exact sums at ~1 us an add instead of ~4.5 (its gcd), once per paid call on the loop."""
    numerator, denominator = float(dollars).as_integer_ratio()  # the denominator is a power of two
    return numerator << (_UNIT_BITS + 1 - denominator.bit_length())


def call_cost(spec: ModelSpec, out: Completion) -> float:
    """A paid call's dollars: what the endpoint billed, else its tokens at the pool's prices."""
    return out.cost_usd or spec.cost(out.usage.input_tokens, out.usage.output_tokens)


class SpendGuard(Protocol):
    """Asked before every paid call: `reserve` raises (a BudgetExceededError) to refuse the call, else
    returns what it holds for it until `release` (after the call, whatever its outcome)."""

    def reserve(self, spec: ModelSpec, messages: list[Message], max_tokens: int) -> Any: ...

    def release(self, held: Any) -> None: ...


class Unsent(asyncio.CancelledError):
    """A call (or part of one) stopped unsent: its caller left and a stop sends nothing more (`sending`). A split
    call ends with it too, carrying in `done` the completions, by sample, of its parts that were sent: billed, so
    each layer on the way up counts or caches them before passing it on. A `CancelledError`, so that anything
    that does not look inside treats it as the cancellation it is."""

    def __init__(self, done: dict[int, Completion] | None = None) -> None:
        super().__init__("not sent: its caller left")
        self.done: dict[int, Completion] = dict(done or {})


@dataclass
class _Ticket:
    on_wire: int = 0
    """Requests of the call being sent now (a split `n` call sends several)."""
    answered: int = 0
    """Requests of the call that came back: a split call stopped between parts holds their billed replies."""
    left: bool = False
    """Its caller was cancelled after a request was sent: the call is kept to finish, but sends nothing more."""


_TICKET: ContextVar[_Ticket | None] = ContextVar("rolegraph_call_ticket", default=None)
"""Set inside each call task of `InFlightCalls.run` (a context variable, inherited by the call's own sub-tasks);
the backend marks each request attempt on it (`sending`)."""


@contextmanager
def sending(retry: bool = False) -> Iterator[None]:
    """Around each request attempt (the backend's, under its concurrency limit, after the spend guard held the
    call's worst case): while one is on the wire, or once one came back, a cancelled caller's call is kept and
    finishes, counted and cached; a call still queued for a slot has none sent, so a stop cancels it unsent. Once
    its caller has left, no attempt of the call is sent, raising `Unsent`: neither a `retry` (a failed attempt
    billed nothing) nor a queued part of a split call (a stop sends nothing more); `retry` says which the attempt
    is, for the reader (both are refused alike). Outside `InFlightCalls.run` (a simulated model) a no-op."""
    ticket = _TICKET.get()
    if ticket is None:
        yield
        return
    if ticket.left:
        raise Unsent
    ticket.on_wire += 1
    try:
        yield
    finally:
        ticket.on_wire -= 1
    ticket.answered += 1  # reached only when the attempt came back


def _wake(woken: asyncio.Future[None], task: asyncio.Task[Any]) -> None:
    """`task` ended: wake its caller, unless the caller left (`woken` cancelled; the task was kept or cancelled)."""
    if not woken.done():
        woken.set_result(None)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class InFlightCalls:
    """The hub's admitted calls whose callers were cancelled, still running to be counted and cached.

    `notice` gets the lines a bounded wait says (stderr by default): a stop that waits is said, and so is one
    that gives up waiting (those calls' replies are lost and a resume sends them again)."""

    def __init__(self, notice: Callable[[str], None] = _say, keep: bool = True) -> None:
        self.notice = notice
        self.keep = keep
        """False: a cancelled caller's call is cancelled too (`serve`: a client that left will not ask again, so
        the upstream should stop generating rather than finish a reply for the cache)."""
        self._tasks: set[asyncio.Task[Any]] = set()
        self._said = False
        self._patient = 0

    @contextmanager
    def patient(self, on: bool = True) -> Iterator[None]:
        """Inside, every `settle` waits for all the calls, unbounded (said once): a stop that is not an interrupt
        (the dollar cap) cancels a step's evaluations, whose own cancel paths would otherwise wait as if for one."""
        self._patient += int(on)
        try:
            yield
        finally:
            self._patient -= int(on)

    def __len__(self) -> int:
        return sum(1 for t in self._tasks if not t.done())

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call()` as a task of its own: cancelling the caller cancels it unless a request of it is on the wire or
        came back (`sending`: a split call's answered part); then it is kept here and finishes, sending nothing
        more (its replies counted and cached), unless `settle` gives up."""
        if not self.keep:
            return await call()
        ticket = _Ticket()

        async def ticketed() -> T:
            _TICKET.set(ticket)  # in this task's own context: the caller's is untouched
            return await call()

        task = asyncio.create_task(ticketed())
        woken = task.get_loop().create_future()  # `asyncio.shield(task)` as the caller needs it, ~2 us lighter
        task.add_done_callback(partial(_wake, woken))
        try:
            await woken  # cancelling the caller cancels this future only, never the task
        except asyncio.CancelledError:
            if (ticket.on_wire or ticket.answered) and not task.done():
                ticket.left = True
                self._tasks.add(task)
                task.add_done_callback(self._done)
            else:
                task.cancel()
            raise
        return task.result()

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a failure of a call nobody waits for is the caller's stop, not news
        if not self._tasks:
            self._said = False

    async def settle(self, limit_s: float | None = None) -> int:
        """Wait for the calls in flight (said first); with `limit_s`, at most that long (an interrupt waits),
        cancelling the rest. Cancelled itself (a second Ctrl-C), it cancels them too. Returns how many were left."""
        pending = [t for t in self._tasks if not t.done()]
        if not pending:
            return 0
        if self._patient:
            limit_s = None
        if not self._said:
            self._said = True
            self.notice(f"waiting for {_calls(len(pending))} in flight (interrupt again to leave them)")
        try:
            _, late = await asyncio.wait(pending, timeout=limit_s)
        except asyncio.CancelledError:
            late = {t for t in pending if not t.done()}
            self._leave(late)
            if late:
                self.notice(f"left {_calls(len(late))} in flight: {LEFT_NOT_KEPT}")
            raise
        if late:
            self._leave(late)
            await asyncio.wait(late)
            self.notice(f"left {_calls(len(late))} in flight after {limit_s:g} s: {LEFT_NOT_KEPT}")
        return len(late)

    def _leave(self, tasks: Any) -> None:
        for task in tasks:
            task.cancel()

    def cancel_all(self) -> None:
        """Leave every call in flight (a hub closing: its clients go, so would their replies)."""
        self._leave(list(self._tasks))


def _calls(n: int) -> str:
    return f"{n} paid call{'' if n == 1 else 's'}"
