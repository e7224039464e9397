"""The search loop every optimizer shares: sample -> evaluate -> feedback -> update, then the final choice.

Each iteration the optimizer proposes graphs (`propose`: Agent-REINFORCE samples its probabilistic
graph), the loop scores them all on the iteration's batch (`SearchContext.evaluate`), and the
optimizer learns from the scores (`observe`: the feedback agent's textual gradient and the
probability update). A checkpoint follows every iteration (`checkpoint.py`); the final choice and
its test score are in `final.py`; what the search may use is `context.py`.
"""

from __future__ import annotations

from rolegraph.errors import SearchError
from rolegraph.evaluate.heap import on_frozen_heap
from rolegraph.graphs.io import graph_hash
from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.checkpoint import paid_before, restore, save_checkpoint, timed_out_before
from rolegraph.optimize.context import FIXED_BATCH_KEY, SAMPLE_STREAM, SearchConfig, SearchContext, rng_for
from rolegraph.optimize.final import FinalChoice, finish
from rolegraph.optimize.progress import SearchProgress
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.spending import SpendMeter, TimedOutTally
from rolegraph.optimize.trace import IterationRecord
from rolegraph.optimize.warmstart import apply_warm_start

__all__ = ["SearchConfig", "SearchContext", "run_search"]


def _log_iteration(ctx: SearchContext, iteration: int, objectives: list[float]) -> float | None:
    best_graph, best_obj, _ = ctx.best()
    ctx.trace.iterations.append(
        IterationRecord(
            iteration=iteration,
            evaluations=ctx.spent,
            best_hash=graph_hash(best_graph) if best_graph else None,
            best_objective=best_obj,
            batch_best=max(objectives, default=None),
        )
    )
    return best_obj


def _iteration_count(ctx: SearchContext, optimizer: Optimizer) -> int:
    """How many graphs the next iteration may score without eating the final re-check's reserve."""
    cfg = ctx.config
    if optimizer.finished:
        return 0
    if cfg.max_evaluations is None:
        return cfg.samples
    per_graph = len(ctx.batch(FIXED_BATCH_KEY)) if optimizer.fixed_batch else min(cfg.batch, len(ctx.split("train")))
    left = cfg.max_evaluations - ctx.spent - cfg.reserve
    return max(0, min(cfg.samples, left // max(per_graph, 1)))


@on_frozen_heap()  # one frozen heap for the whole search (unless a caller froze it): its evaluations run inside
async def run_search(
    ctx: SearchContext, optimizer: Optimizer, store: RunStore | None = None, progress: bool = False
) -> FinalChoice:
    """Run (or resume, when `store` has a checkpoint) a search to its final, tested choice."""
    cfg = ctx.config
    optimizer.bind(ctx.space, cfg.seed)
    if cfg.iterations is None and cfg.max_evaluations is None and not optimizer.finite:
        raise SearchError("give a number of iterations or an evaluation budget (max evaluations)")
    ctx.optimizer_name = optimizer.name
    point = restore(store, ctx, optimizer) if store is not None else None
    ctx.spend = SpendMeter.start(
        ctx.hub.stats,
        cfg.max_dollars,
        paid_before(store) if store is not None else 0.0,
        str(store.run_dir) if store is not None else None,
    )
    # the run's requests abandoned at a timeout, over all sessions: stored with every checkpoint, as the dollars are
    ctx.timed_out = TimedOutTally.start(ctx.hub.stats, timed_out_before(store) if store is not None else (0, 0.0))
    if point is not None and point[1] == "done" and point[2] is not None:
        return point[2]
    if cfg.max_dollars is not None:
        ctx.hub.spend_guard = ctx.spend
    bar = SearchProgress(progress, cfg.iterations, f"{optimizer.name} on {ctx.task.name}")
    try:
        if point is None:
            adopted = ctx.warm is not None and apply_warm_start(ctx, optimizer, ctx.warm, ctx.space.pool)
            if not adopted:  # a warm start's distribution replaces the start (Agent-REINFORCE's pilot)
                await optimizer.start(ctx)
            iteration = 0
            if ctx.trace.records:  # the pilot (or a warm start's evidence): the curve starts where it left the search
                _log_iteration(ctx, iteration, [r.objective for r in ctx.trace.records])
            save_checkpoint(store, ctx, optimizer, iteration, "search")
        else:
            iteration = point[0]
        while cfg.iterations is None or iteration < cfg.iterations:
            count = _iteration_count(ctx, optimizer)
            if count <= 0:
                break
            nxt = iteration + 1
            proposals = optimizer.propose(nxt, count, rng_for(cfg.seed, nxt, SAMPLE_STREAM))[:count]
            if not proposals:
                break
            items = ctx.batch(FIXED_BATCH_KEY if optimizer.fixed_batch else nxt)
            evals = await ctx.evaluate(proposals, items, nxt, "search")
            await optimizer.observe(nxt, evals, ctx)
            best_obj = _log_iteration(ctx, nxt, [e.objective for e in evals])
            iteration = nxt
            save_checkpoint(store, ctx, optimizer, iteration, "search")
            bar.update(iteration, ctx.spent, best_obj)
        final = await finish(ctx, iteration)
        save_checkpoint(store, ctx, optimizer, iteration, "done", final)
    finally:
        bar.close()
        ctx.hub.spend_guard = None
        if store is not None:
            store.set_paid_usd(ctx.spend.spent)
            store.set_timed_out(*ctx.timed_out.total)
    return final
