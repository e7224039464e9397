"""Checkpoints: the search's whole state after every iteration, so a killed run resumes exactly.

A checkpoint holds the optimizer's `state_dict`, the iteration log, the final choice (once made), the
dollars the run has paid so far and the requests its sessions abandoned at a timeout (`TimedOutTally`); the
evaluation records, feedback and graphs go to the run store's own tables. The dollars and the timed-out
requests are also kept apart, as each call is paid (`PaidLedger`): calls made after the last checkpoint were
paid too, and a resume gets their replies from the response cache free.
"""

from __future__ import annotations

from pathlib import Path

from rolegraph.errors import one_line
from rolegraph.models.hub import CallStats
from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.final import FinalChoice
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.spending import TimedOutTally
from rolegraph.optimize.trace import EvalRecord, FeedbackRecord, IterationRecord, SearchTrace

PAID_USD_KEY = "paid_usd"
TIMED_OUT_KEYS = ("timed_out_attempts", "timed_out_usd")
"""A checkpoint's state keys of the run's timed-out requests (`TimedOutTally.total`), the names `optimize --json`
gives them."""


def timed_out_before(store: RunStore) -> tuple[int, float]:
    """The timed-out requests of earlier sessions, as `paid_before` reads the dollars: the larger of the store's
    running figure (`RunStore.timed_out`, written with the paid calls and at a session's end) and the last
    checkpoint's (each only grows, so the larger is the later); (0, 0.0) for a run from before they were kept."""
    point = store.checkpoint()
    state = point[2] if point is not None else {}
    stored = store.timed_out()
    return (
        max(stored[0], int(state.get(TIMED_OUT_KEYS[0]) or 0)),
        max(stored[1], float(state.get(TIMED_OUT_KEYS[1]) or 0.0)),
    )


def save_checkpoint(
    store: RunStore | None,
    ctx: SearchContext,
    optimizer: Optimizer,
    iteration: int,
    phase: str,
    final: FinalChoice | None = None,
) -> None:
    """The search's state into `store` (None: none kept), with the run's timed-out requests when the session
    writing it counts them (`ctx.timed_out`: new keys at the state's end, the fields before them stay as they were)."""
    if store is None:
        return
    state = {
        "optimizer": optimizer.state_dict(),
        "iterations": [r.model_dump() for r in ctx.trace.iterations],
        "final": final.model_dump() if final is not None else None,
        "rng": {
            "seed": ctx.config.seed,
            "next_iteration": iteration + 1,
            "scheme": "numpy SeedSequence([seed, iteration, stream]): samples 1, batches 2",
        },
        # What was paid up to this checkpoint, for a run store written without a `PaidLedger` (a caller of
        # `run_search` itself): `paid_before` takes the larger of this and the ledger's running total. Calls paid
        # after it are not in it, and a resume replays them from the response cache free: only the ledger,
        # which stores every paid call's dollars as it is counted, keeps those across a kill.
        PAID_USD_KEY: ctx.spend.spent if ctx.spend is not None else 0.0,
    }
    if ctx.timed_out is not None:  # as the dollars: a session killed after this checkpoint loses none before it
        state |= dict(zip(TIMED_OUT_KEYS, ctx.timed_out.total, strict=True))
    store.save_checkpoint(
        iteration,
        phase,
        state,
        [r.model_dump() for r in ctx.trace.records],
        [f.model_dump() for f in ctx.trace.feedback],
        ctx.graphs,
    )


def paid_before(store: RunStore) -> float:
    """Dollars earlier sessions paid: the larger of the store's running total (`PaidLedger`, written at every
    paid call) and what the last checkpoint recorded (the whole figure for a store written without a ledger,
    whose killed session never stored its total; the sums only grow, so the larger is the later)."""
    point = store.checkpoint()
    at_checkpoint = float(point[2].get(PAID_USD_KEY) or 0.0) if point is not None else 0.0
    return max(store.paid_usd(), at_checkpoint)


class PaidLedger:
    """A run's paid dollars in its run store, stored as each paid call is counted (`CallStats.on_paid`).

    Why at every call: a session killed (SIGKILL, a crash) reaches no `finally`, while the calls it paid live on
    where a resume skips them: replies in the response cache (replayed free, so never metered again) and graphs
    already scored into the paired sets (`results.sqlite`, not scored again). The hub counts a call's dollars
    before the cache stores its reply, so what the store holds is never short of what a resume will skip: every
    paid call is counted once across sessions, and `--max-dollars` on resume starts from the true total.

    The run's requests abandoned at a timeout (`timed_out`, over all sessions) are stored with the dollars when they
    changed: the hub has no hook at a timeout, so one abandoned after the session's last paid call is stored at its
    next checkpoint or as the ledger closes (a kill in between loses only those)."""

    def __init__(self, run_dir: str | Path, stats: CallStats, before: float) -> None:
        # one write per paid call: `RunStore.open` syncs NORMAL, no fsync each (3 ms at FULL: a search's thousands
        # of calls would wait seconds); a commit in WAL at NORMAL survives the process being killed, only an OS
        # crash may lose it
        self._store = RunStore.open(run_dir)
        self._stats = stats
        self._before = before
        self._baseline = stats.paid_usd
        self.timed_out = TimedOutTally.start(stats, timed_out_before(self._store))
        self._timed_out_stored = self.timed_out.total
        self._previous = stats.on_paid
        stats.on_paid = self._persist

    @classmethod
    def start(cls, run_dir: str | Path, stats: CallStats) -> PaidLedger:
        """A ledger continuing from what earlier sessions of the run paid (`paid_before`)."""
        store = RunStore.open(run_dir)
        try:
            before = paid_before(store)
        finally:
            store.close()
        return cls(run_dir, stats, before)

    @property
    def total(self) -> float:
        """Earlier sessions' dollars and this one's: `SpendMeter.spent` when both start together."""
        return self._before + self._stats.paid_usd - self._baseline

    def _persist(self) -> None:
        self._store.set_paid_usd(self.total)
        timed_out = self.timed_out.total
        if timed_out != self._timed_out_stored:
            self._store.set_timed_out(*timed_out)
            self._timed_out_stored = timed_out

    def close(self) -> None:
        if self._stats.on_paid == self._persist:
            self._stats.on_paid = self._previous
        try:
            self._persist()
        finally:
            self._store.close()


def restore(store: RunStore, ctx: SearchContext, optimizer: Optimizer) -> tuple[int, str, FinalChoice | None] | None:
    """Load the last checkpoint into `ctx` and `optimizer`; None when the run has none yet. The store checked the
    state's shape when it opened (`CheckpointState`); the optimizer's own part only the optimizer knows, so a part
    it cannot load is the store's one-line "is damaged" error here, not a KeyError traceback from inside it."""
    point = store.checkpoint()
    if point is None:
        return None
    iteration, phase, state = point
    ctx.trace = SearchTrace(
        records=[EvalRecord.model_validate(r) for r in store.records()],
        iterations=[IterationRecord.model_validate(r) for r in state["iterations"]],
        feedback=[FeedbackRecord.model_validate(f) for f in store.feedback()],
    )
    ctx.restore_graphs(store.graphs())
    try:
        optimizer.load_state_dict(state.get("optimizer") or {})
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:  # a ValidationError is a ValueError
        reason = one_line(f"{type(exc).__name__}: {exc}", 120)
        what = f"its checkpoint's optimizer state does not fit its {optimizer.name} optimizer ({reason})"
        raise store._damaged(what) from None
    final = FinalChoice.model_validate(state["final"]) if state.get("final") else None
    return iteration, phase, final
