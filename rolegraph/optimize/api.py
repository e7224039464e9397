"""The Python API: `optimize(task, space, optimizer=AgentReinforce(...))` (or `await optimize_async(...)`) and
`await resume_async(run_dir, settings)`.

A search with a run directory writes its store there (checkpoint after every iteration) and its
data files at the end (`rolegraph.reports` renders the rest); `resume_async` rebuilds task, pool, space
and optimizer from the store's config, so the same run continues where it stopped. While a search or a
resume runs, it holds its run directory (`RunLock`): a second one on the same directory is refused.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

from rolegraph.agents.registry import ReplacedBuiltinWarning, RoleRegistry
from rolegraph.errors import BudgetExceededError
from rolegraph.evaluate.heap import on_frozen_heap
from rolegraph.graphs.gold_guard import refuse_mixed_search
from rolegraph.graphs.sync import refuse_running_loop, run_closing
from rolegraph.models.hub import ModelHub
from rolegraph.models.in_flight import INTERRUPT_WAIT_S
from rolegraph.models.provenance import REAL, SIMULATED
from rolegraph.optimize.agent_reinforce_race import AgentReinforce
from rolegraph.optimize.agent_usage import agent_usage
from rolegraph.optimize.artifacts import write_artifacts
from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.checkpoint import PaidLedger, paid_before
from rolegraph.optimize.context import SearchConfig, SearchContext, SplitShortfallWarning, split_shortfalls
from rolegraph.optimize.final import FinalChoice
from rolegraph.optimize.loop import run_search
from rolegraph.optimize.methods import (
    DEFAULT_ITERATIONS,
    FINITE_OPTIMIZERS,
    OPTIMIZERS,
    make_optimizer,
    resolve_iterations,
)
from rolegraph.optimize.pareto import front, points
from rolegraph.optimize.rebuild import add_to_run, default_toolbox, pair_front, pair_run, rebuild
from rolegraph.optimize.run_reader import REBUILD_KEYS, stored_config
from rolegraph.optimize.run_setup import (
    adopt_server_windows,
    check_startable,
    run_config,
    search_provenance,
    warm_start_from,
)
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.runlock import RunLock
from rolegraph.optimize.search_result import SearchResult
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.spending import DollarCapReachedError, TimedOutTally
from rolegraph.optimize.task_identity import items_digest, task_args_of
from rolegraph.optimize.trace import records_served, records_simulation
from rolegraph.settings import Settings
from rolegraph.tasks.base import Task
from rolegraph.tools.toolbox import ToolBox  # already loaded by then: in the hints that resolve at run time

__all__ = [  # the Python API; methods.py, rebuild.py and search_result.py hold the parts that moved out of this module
    "DEFAULT_ITERATIONS",
    "FINITE_OPTIMIZERS",
    "OPTIMIZERS",
    "SearchResult",
    "add_to_run",
    "default_toolbox",
    "make_optimizer",
    "optimize",
    "optimize_async",
    "pair_front",
    "pair_run",
    "rebuild",
    "resolve_iterations",
    "resume_async",
    "search_provenance",
]


def _endpoint(optimizer: Optimizer) -> dict:
    """What an LLM feedback agent found about its endpoint (context window, structured output), else {}."""
    describe = getattr(getattr(optimizer, "agent", None), "describe", None)
    return describe() if callable(describe) else {}


def _result(
    ctx: SearchContext,
    optimizer: Optimizer,
    final: FinalChoice,
    run_dir: Path | None,
    hub: ModelHub,
    start: int,
    timed_out: TimedOutTally,
) -> SearchResult:
    """The search's result; `start`: the hub's paid calls as the search began (a hub lives longer); `timed_out`:
    the run's requests abandoned at a timeout, over all its sessions (its ledger's, with a run directory)."""
    records = ctx.trace.records
    simulation = records_simulation(records)
    return SearchResult(
        task=ctx.task.name,
        optimizer=optimizer.name,
        feedback_agent=agent_usage(optimizer.feedback_agent_name(), ctx.trace.feedback, _endpoint(optimizer)),
        run_dir=str(run_dir) if run_dir else None,
        best_graph=ctx.graph(final.chosen_hash),
        best_hash=final.chosen_hash,
        test=final.test,
        cap_miss=final.cap_miss,
        singles=final.singles,
        candidates=final.candidates,
        evaluations=ctx.trace.spent,
        iterations=sum(1 for it in ctx.trace.iterations if it.iteration > 0),
        simulated=simulation == SIMULATED,
        simulation=simulation,
        provenance=search_provenance(
            ctx.space,
            ctx.config.seed,
            None,
            records_served(records),
            simulation,
            best=ctx.graph(final.chosen_hash),  # its nodes' sampling, as eval and run record it
            hub=hub,
            toolbox=ctx.toolbox,
        ),
        world=hub.pool.world if simulation != REAL else None,
        pareto=front(points(records)),
        trace=ctx.trace,
        paid_calls=hub.stats.paid - start,
        timed_out=timed_out.total,
        paid_usd=ctx.spend.spent if ctx.spend is not None else hub.stats.paid_usd,
    )


@on_frozen_heap()  # one frozen heap for the whole search and its front's pairing: evaluations run inside it
async def optimize_async(
    task: Task,
    space: SearchSpace,
    optimizer: Optimizer | None = None,
    *,
    hub: ModelHub,
    config: SearchConfig | None = None,
    out: str | Path | None = None,
    toolbox: ToolBox | None = None,
    progress: bool = False,
    task_args: dict | None = None,
    pool_path: str | None = None,
    agent_model: str | None = None,
    executor: Any = None,
    init_from: str | Path | None = None,
) -> SearchResult:
    """Run a search; with `out`, keep a resumable run directory there (its store, best_graph.yaml and
    trace.json; `rolegraph.reports.render(out)` adds report.md and the plots).
    `executor` (rolegraph.evaluate.executors): where item evaluations run (default: this process).
    `init_from`: an earlier run directory to warm-start from (`rolegraph.optimize.warmstart`).
    `task_args`: how to build the task again (name, data, seed, options; `resume_async` does); left out, it is
    read from the task (`task_args_of`).
    The space's family must be the task's (`SearchSpace.check_family`): it prices every graph."""
    space.check_family(task.family, f"task '{task.name}'")
    refuse_mixed_search(space.pool, space.models)  # a sim node's output (from the gold) never reaches a real one
    optimizer = optimizer or AgentReinforce()
    config = config or SearchConfig()
    task_args = task_args or task_args_of(task)
    task_items = items_digest(task)
    warm = warm_start_from(init_from, optimizer, task_args, task_items)
    if warm is not None:  # its batches follow the earlier run's: imported evidence is not scored again on its items
        config = replace(config, batch_offset=warm.next_batch_key)
    for note in split_shortfalls(task, config):  # said, not silent: a 2-item test score is not what was asked
        warnings.warn(note, SplitShortfallWarning, stacklevel=2)
    if toolbox is None:
        toolbox = default_toolbox(hub.settings, task)
    ctx = SearchContext(task=task, space=space, hub=hub, config=config, toolbox=toolbox, executor=executor, warm=warm)
    await adopt_server_windows(space)  # the servers' own windows, where the pool file gives none
    check_startable(ctx, optimizer)  # a refused start leaves no run directory behind
    store: RunStore | None = None
    lock: RunLock | None = None
    if out is not None:
        hub.settings.ensure_home()  # an unusable state directory fails before a run directory is made
        stored = run_config(task, task_args, space, optimizer, config, pool_path, agent_model, init_from, task_items)
        store = RunStore.create(out, stored, hold=True)  # held from before the directory is looked at
        lock = store.lock
        # said as the search starts: reopening its run directory could not tell a replaced built-in apart
        ReplacedBuiltinWarning.warn_for(space.registry, space.roles)
    start = hub.stats.paid
    ledger = PaidLedger(out, hub.stats, paid_before(store)) if out is not None and store is not None else None
    timed_out = ledger.timed_out if ledger is not None else TimedOutTally.start(hub.stats)
    try:
        try:
            final = await run_search(ctx, optimizer, store, progress)
        finally:
            if store is not None:
                store.close()
        if out is not None:
            await _pair_within_cap(ctx, final, out, progress)
            write_artifacts(out)
    except DollarCapReachedError as exc:  # its report and every resume hint then ask for a higher cap
        if out is not None:
            RunStore.record_cap_stop(out, str(exc))
        raise
    finally:
        try:
            await _settle_in_flight(hub)
        finally:
            if ledger is not None:
                ledger.close()
            if lock is not None:
                lock.release()
    return _result(ctx, optimizer, final, Path(out) if out is not None else None, hub, start, timed_out)


async def _pair_within_cap(ctx: SearchContext, final: FinalChoice, run_dir: str | Path, progress: bool) -> None:
    """The front's paired scoring (route fit's outcomes) under the search's dollar cap; its dollars go to the run
    store with the search's as each call is paid (the caller's `PaidLedger`): a graph scored into the paired
    sets is not scored again on resume, so a kill must not lose what it cost."""
    if ctx.config.max_dollars is not None:
        ctx.hub.spend_guard = ctx.spend
    try:
        await pair_front(ctx, final, run_dir, progress)
    except BudgetExceededError:
        if ctx.spend is not None and ctx.spend.refused is not None:  # the cap, not a graph's own budget
            raise ctx.spend.stop_error("routing") from None
        raise
    finally:
        ctx.hub.spend_guard = None


def optimize(
    task: Task,
    space: SearchSpace,
    optimizer: Optimizer | None = None,
    *,
    settings: Settings | None = None,
    hub: ModelHub | None = None,
    **kwargs: Any,
) -> SearchResult:
    """Synchronous `optimize_async` with its own event loop (and hub, unless given); inside a running loop
    (Jupyter, an async app) it refuses with one line: await `optimize_async` there. The hub, given or its
    own, has its HTTP clients closed before the loop ends (`run_closing`), so a given hub can be reused."""
    refuse_running_loop("optimize", "optimize_async(...)")
    used = hub or ModelHub(space.pool, settings or Settings.from_env())
    return run_closing(lambda: optimize_async(task, space, optimizer, hub=used, **kwargs), used)


@on_frozen_heap()  # as optimize_async: the resumed search and its front's pairing in one frozen heap
async def resume_async(
    run_dir: str | Path,
    settings: Settings,
    *,
    hub: ModelHub | None = None,
    task: Task | None = None,
    progress: bool = False,
    executor: Any = None,
    roles: RoleRegistry | None = None,
    max_dollars: float | None = None,
) -> SearchResult:
    """Continue a run to exactly the result an uninterrupted run gives (cached calls are not paid again).
    `max_dollars` replaces the run's dollar cap from now on (e.g. to go on after the cap stopped it).
    The run directory is held while it runs: a second resume (or search) of it is refused (`RunLock`)."""
    RunStore.open(run_dir).close()  # not a run directory: its own one-line error, before the lock file is made
    with RunLock.take(run_dir):
        return await _resume_held(run_dir, settings, hub, task, progress, executor, roles, max_dollars)


async def _resume_held(
    run_dir: str | Path,
    settings: Settings,
    hub: ModelHub | None,
    task: Task | None,
    progress: bool,
    executor: Any,
    roles: RoleRegistry | None,
    max_dollars: float | None,
) -> SearchResult:
    """`resume_async` once it holds the run directory."""
    if max_dollars is not None:
        SearchConfig(max_dollars=max_dollars)  # validates it before anything is written
        store = RunStore.open(run_dir)
        try:
            stored_config(store, REBUILD_KEYS)  # a damaged config: its one line, not a KeyError in set_max_dollars
            store.set_max_dollars(max_dollars)
        finally:
            store.close()
    cfg, task, space, hub_used, optimizer, config = rebuild(run_dir, settings, hub, task, roles)
    refuse_mixed_search(space.pool, space.models)  # a run that mixed them before this was refused
    await adopt_server_windows(space)  # as its start did: the space holds the graphs it held then
    store = RunStore.open(run_dir)
    has_checkpoint = store.checkpoint() is not None
    warm = None
    if cfg.get("init_from") and not has_checkpoint:  # stopped before its first checkpoint: start again
        warm = warm_start_from(cfg["init_from"], optimizer, cfg["task_args"], cfg.get("task_items"))
    ctx = SearchContext(
        task=task,
        space=space,
        hub=hub_used,
        config=config,
        toolbox=default_toolbox(hub_used.settings, task),
        executor=executor,
        warm=warm,
    )
    start = hub_used.stats.paid
    ledger = PaidLedger(run_dir, hub_used.stats, paid_before(store))
    try:
        try:
            final = await run_search(ctx, optimizer, store, progress)
        finally:
            store.close()
        await _pair_within_cap(ctx, final, run_dir, progress)
    except DollarCapReachedError as exc:  # as in `optimize_async`
        RunStore.record_cap_stop(run_dir, str(exc))
        raise
    finally:
        try:
            await _settle_in_flight(hub_used)
        finally:
            ledger.close()
    write_artifacts(run_dir)
    result = _result(ctx, optimizer, final, Path(run_dir), hub_used, start, ledger.timed_out)
    if hub is None:
        await hub_used.aclose()
    return result


async def _settle_in_flight(hub: Any) -> None:
    """Paid calls a stop left running outside a step's evaluations (the feedback agent's), waited for as a step's
    are (`SearchContext._capped`): bounded, and said, on an interrupt; so the ledger counts them before it closes."""
    in_flight = getattr(hub, "in_flight", None)
    if in_flight is not None and len(in_flight):
        await in_flight.settle(INTERRUPT_WAIT_S)
