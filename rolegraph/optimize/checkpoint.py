"""Checkpoints: the search's whole state after every iteration, so a killed run resumes exactly.

A checkpoint holds the optimizer's `state_dict`, the iteration log, the final choice (once made) and
the dollars the run has paid so far; the evaluation records, feedback and graphs go to the run store's
own tables.
"""

from __future__ import annotations

from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.final import FinalChoice
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.trace import EvalRecord, FeedbackRecord, IterationRecord, SearchTrace

PAID_USD_KEY = "paid_usd"


def save_checkpoint(
    store: RunStore | None,
    ctx: SearchContext,
    optimizer: Optimizer,
    iteration: int,
    phase: str,
    final: FinalChoice | None = None,
) -> None:
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
        # In the checkpoint's own transaction: a run killed (SIGKILL) before `run_search`'s `finally` stores its
        # spend still resumes with the meter at what was paid up to here, so `--max-dollars` holds across the kill.
        # Calls paid after this checkpoint are not counted, but a resume re-makes them from the response cache
        # for free, so the meter stays exact up to the calls that were paid and then lost with the process.
        PAID_USD_KEY: ctx.spend.spent if ctx.spend is not None else 0.0,
    }
    store.save_checkpoint(
        iteration,
        phase,
        state,
        [r.model_dump() for r in ctx.trace.records],
        [f.model_dump() for f in ctx.trace.feedback],
        ctx.graphs,
    )


def paid_before(store: RunStore) -> float:
    """Dollars earlier sessions paid: the larger of what the last session stored when it ended and what its
    last checkpoint recorded (a killed session never reached the former; the sums only grow, so the larger
    is the later)."""
    point = store.checkpoint()
    at_checkpoint = float(point[2].get(PAID_USD_KEY) or 0.0) if point is not None else 0.0
    return max(store.paid_usd(), at_checkpoint)


def restore(store: RunStore, ctx: SearchContext, optimizer: Optimizer) -> tuple[int, str, FinalChoice | None] | None:
    """Load the last checkpoint into `ctx` and `optimizer`; None when the run has none yet."""
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
    optimizer.load_state_dict(state["optimizer"])
    final = FinalChoice.model_validate(state["final"]) if state.get("final") else None
    return iteration, phase, final
