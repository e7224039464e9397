"""Run a graph over task items concurrently and score it: the evaluator the CLI and optimizer share.

Items run through the hub (and so through its response cache) under an asyncio concurrency
limit. Results are kept in input order, never completion order, so a seed gives the same
`EvalResult` at any concurrency. A run that fails is a *failure*, counted apart from wrong
answers; a budget that runs out stops the whole evaluation and hands back what was computed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from rolegraph.errors import BudgetExceededError, GraphError, NodeFailedError, RolegraphError, TaskError
from rolegraph.evaluate.aggregate import summarize
from rolegraph.evaluate.heap import on_frozen_heap
from rolegraph.evaluate.progress import ItemProgress, OnItem, wants_progress
from rolegraph.evaluate.result import EvalResult, ItemScore, NodeUsage, raise_if_every_failed, trimmed_item_count
from rolegraph.graphs.gold_guard import refuse_gold_leak
from rolegraph.graphs.provenance import run_provenance
from rolegraph.graphs.result import RunResult
from rolegraph.graphs.router import RouterSpec
from rolegraph.graphs.router_io import spec_hash
from rolegraph.graphs.router_runtime import CompiledRouter, RouterRunResult, compile_spec
from rolegraph.graphs.runtime import PASS_THROUGH, CompiledGraph
from rolegraph.graphs.signals import observe
from rolegraph.graphs.spec import GraphSpec
from rolegraph.graphs.sync import refuse_running_loop, run_closing
from rolegraph.graphs.validate import silent_outputs
from rolegraph.items import Item
from rolegraph.models.in_flight import INTERRUPT_WAIT_S
from rolegraph.models.provenance import combine, merge_served
from rolegraph.tasks.base import Task

if TYPE_CHECKING:
    from rolegraph.agents.registry import RoleRegistry
    from rolegraph.evaluate.store import ResultsStore
    from rolegraph.graphs.budget import Budget
    from rolegraph.models.hub import ModelHub
    from rolegraph.settings import Settings
    from rolegraph.tools.toolbox import ToolBox

T = TypeVar("T")

FREEZE_MIN_ITEMS = 64
"""An evaluation of this many items or more runs on a frozen heap (`rolegraph.evaluate.heap`) when no search
or caller has frozen it: a smaller one, often one of many running side by side, is not worth asking the
collector whether the heap is frozen already (~2 ms when it is)."""

CONFIG_ERRORS = tuple(e for e in PASS_THROUGH if e not in (BudgetExceededError, NodeFailedError))
"""Setup mistakes (missing key, unknown model or role, ...) would fail every item alike: they stop the
evaluation with their one-line message instead of being counted as failures."""
BLOCKING_SCORE_FAMILIES = frozenset({"code"})
"""Families whose scorer runs a subprocess (tests in the sandbox): scored off the event loop."""
DEFAULT_CONCURRENCY = 8


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__


class _Scorer:
    """Scores an item's answers once each (votes repeat answers; a code scorer is expensive)."""

    def __init__(self, task: Task, settings: Settings):
        scorer = getattr(task, "scorer", None)  # a duck-typed task (a wrapper) may have only `score`
        self.score = scorer(settings) if scorer is not None else task.score
        self.off_loop = task.family in BLOCKING_SCORE_FAMILIES

    async def scores(self, answers: list[str | None], item: Item) -> dict[str | None, float]:
        distinct = list(dict.fromkeys(answers))
        if self.off_loop:
            values = await asyncio.to_thread(lambda: [self.score(a, item) for a in distinct])
        else:
            values = [self.score(a, item) for a in distinct]
        return dict(zip(distinct, (float(v) for v in values)))


def _usage(run: RunResult) -> dict[str, NodeUsage]:
    return {
        n.id: NodeUsage(
            tokens_in=n.tokens_in,
            tokens_out=n.tokens_out,
            latency_s=n.latency_s,
            cost_usd=n.cost_usd,
            truncated_calls=n.truncated_calls,
            calls=n.calls,
            cached_calls=n.cached_calls,
            logprob=n.logprob,
            trimmed_evidence_tokens=n.trimmed_evidence_tokens,
        )
        for n in run.nodes
    }


def _failed(item: Item, error: str, run: RunResult | None) -> ItemScore:
    """A failure scores 0 but keeps what the partial run spent (tokens and dollars were paid)."""
    if run is None:
        return ItemScore(item_id=item.id, gold=item.gold, error=error)
    return ItemScore(
        item_id=item.id,
        gold=item.gold,
        error=error,
        answer=run.answer,
        cost_usd=run.cost_usd,
        tokens=run.tokens,
        flops_units=run.flops_units,
        node_usage=_usage(run),
        simulation=run.simulation if run.served else None,
        served=run.served,
    )


async def _scored(run: RunResult, item: Item, scorer: _Scorer) -> ItemScore:
    if run.error is not None:
        return _failed(item, run.error, run)
    signals = run.signals if isinstance(run, RouterRunResult) else observe(run)
    node_answers = {n.id: n.answer for n in run.nodes}
    scores = await scorer.scores([run.answer, *(a for a in node_answers.values() if a is not None)], item)
    return ItemScore(
        item_id=item.id,
        score=scores[run.answer],
        answer=run.answer,
        gold=item.gold,
        latency_s=run.latency_s,
        critical_path_s=run.critical_path_s,
        cost_usd=run.cost_usd,
        tokens=run.tokens,
        flops_units=run.flops_units,
        node_answers=node_answers,
        node_scores={nid: scores[a] for nid, a in node_answers.items() if a is not None},
        node_usage=_usage(run),
        simulation=run.simulation,
        served=run.served,
        agreement=signals.agreement,
        verified=signals.verified,
        logprob=signals.logprob,
        stage=run.stage if isinstance(run, RouterRunResult) else None,
    )


async def _run_item(
    graph: CompiledGraph | CompiledRouter, item: Item, task: Task, scorer: _Scorer, *, budget: Budget | None, seed: int
) -> tuple[ItemScore, bool]:
    """(score, simulated). Budget and setup errors propagate; anything else is this item's failure."""
    try:
        run = await graph.run(item, budget=budget, seed=seed, answer_kind=task.answer_kind)
    except (BudgetExceededError, *CONFIG_ERRORS):
        raise
    except Exception as exc:  # noqa: BLE001 - node failures and model errors are counted, not fatal
        partial = getattr(exc, "partial", None)
        return _failed(item, _error_text(exc), partial if isinstance(partial, RunResult) else None), False
    return await _scored(run, item, scorer), run.simulated


def _refuse_unscorable(spec: GraphSpec | RouterSpec, items: Sequence[Item], roles: RoleRegistry | None) -> None:
    """Evaluations whose score would mean nothing, refused before any call: no items (accuracy 0 with the
    interval (0, 1) looks like a result), or a graph whose output never answers (0 on every item looks like
    a bad graph, not a mistake; `rolegraph eval` refuses it with the same line)."""
    if not items:
        raise TaskError("no items to evaluate: give at least one (e.g. task.items('test', n=20))")
    silent = silent_outputs(spec, roles)
    if silent:
        raise GraphError(silent, source=f"{'router' if isinstance(spec, RouterSpec) else 'graph'} '{spec.name}'")


@on_frozen_heap(lambda spec, task, items, *_, **__: len(items) >= FREEZE_MIN_ITEMS)
async def evaluate(
    spec: GraphSpec | RouterSpec,
    task: Task,
    items: Sequence[Item],
    *,
    hub: ModelHub,
    toolbox: ToolBox | None = None,
    roles: RoleRegistry | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    seed: int = 0,
    store: ResultsStore | None = None,
    progress: bool | None = None,
    label: str | None = None,
    budget: Budget | None = None,
    on_item: OnItem | None = None,
    store_settings: dict | None = None,
    executor: Any = None,
    raise_on_all_failed: bool = True,
) -> EvalResult:
    """Score `spec` (a graph or a router) on `items`; save to `store` if given (the result then carries its `run_id`).

    When every item failed (no model answered: a server down, a bad key) it raises `ItemsFailedError` naming the
    first failure (after saving to `store`; `exc.result` is the EvalResult), as `rolegraph eval` exits 2: its
    accuracy of 0 would read as a measured 0%. Some items failing is returned as before (`failures`,
    `failure_line()`). `raise_on_all_failed=False` returns it all the same (the CLI and the search report it
    their own way).

    Items without a gold answer are skipped and counted: `skipped` counts those of `items` only. A file task's
    records without a gold (`task.skipped`) are in no split (`Task.items` draws from usable items), so none of
    them was among the items asked for; `rolegraph eval` notes them apart. `progress`: a
    rich bar on stderr (None = only on a terminal); `on_item(done, total)` is called after
    each item. `budget` caps every run (the runtime's per-run Budget); a run that exceeds it stops
    the whole evaluation (a cap is never worked around silently): BudgetExceededError is raised
    with `partial` = the EvalResult of the items done, also saved to `store` marked partial.
    The graph is compiled once and run on every item. `executor` (rolegraph.evaluate.executors): where
    the items run; None or a local one runs them here, a Ray one spreads them over a cluster.
    With `FREEZE_MIN_ITEMS` items or more it runs on a frozen heap (`rolegraph.evaluate.heap`): the collector
    skips what existed before it. A graph (or a router stage) in which a real node reads a simulated node's
    output, derived from the gold, is refused before any item runs (`rolegraph.graphs.gold_guard`).
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    _refuse_unscorable(spec, items, roles)
    scorable = [it for it in items if it.gold is not None]
    skipped = len(items) - len(scorable)
    world = hub.pool.world if any(hub.spec(node.model).simulated for node in spec.nodes) else None
    if isinstance(spec, RouterSpec) and executor is not None and not executor.in_process:
        raise RolegraphError("routers run with the local executor only: drop --executor ray to evaluate a router")
    graph = compile_spec(spec, hub, toolbox=toolbox, roles=roles)
    if scorable:  # every item carries its gold: checked once here, not item by item (nor stage by stage)
        refuse_gold_leak(spec, hub.pool)
    if getattr(task, "runs_model_code", False) or getattr(graph, "runs_model_code", False):
        # refused before any call is paid for, not mid-way
        from rolegraph.tools.sandbox import require_containment

        require_containment(hub.settings.allow_weak_sandbox)
    ghash = spec_hash(spec)
    scorer = _Scorer(task, hub.settings)
    results: list[ItemScore | None] = [None] * len(scorable)
    sim_runs = [False] * len(scorable)  # the executors fill it too; the label is read from the items
    order = iter(range(len(scorable)))
    done = 0
    # requests abandoned at a timeout are in no reply's tokens or dollars: the hub counts them (`models.timeouts`),
    # and this evaluation's share is what the count grew by while it ran (evaluations run at once on one hub, as a
    # search's step, each count the others' too: the hub's own stats count every one once)
    timed_out_before = (hub.stats.timed_out_attempts, hub.stats.timed_out_usd)

    def checked(result: EvalResult) -> EvalResult:
        return raise_if_every_failed(result) if raise_on_all_failed else result

    def finish(partial: bool) -> EvalResult:
        kept = [r for r in results if r is not None]
        # the label comes from what answered (the replies' marks), the pool's word only when nothing did
        simulation = combine(it.simulation for it in kept) or graph.configured_simulation
        served = merge_served(it.served for it in kept)
        result = summarize(
            kept,
            spec,
            task=task.name,
            graph_hash=ghash,
            skipped=skipped,
            simulation=simulation,
            partial=partial,
            world=world,
            provenance=run_provenance(graph, seed=seed, simulation=simulation, served=served),
        )
        result.trimmed_items = trimmed_item_count(kept)
        result.timed_out_attempts = hub.stats.timed_out_attempts - timed_out_before[0]
        result.timed_out_usd = max(0.0, hub.stats.timed_out_usd - timed_out_before[1])
        if store is not None:
            result.run_id = store.save(result, spec, label=label, settings=store_settings)
        return result

    with ItemProgress(
        len(scorable), label or f"{spec.name} on {task.name}", show=wants_progress(progress), on_item=on_item
    ) as bar:
        if executor is not None and not executor.in_process:
            try:
                await executor.run_items(
                    spec,
                    task,
                    scorable,
                    results,
                    sim_runs,
                    hub=hub,
                    roles=roles,
                    concurrency=concurrency,
                    seed=seed,
                    budget=budget,
                    advance=bar.advance,
                )
            except BudgetExceededError as exc:
                raise BudgetExceededError(str(exc), partial=finish(partial=True)) from exc
            return checked(finish(partial=False))

        async def worker() -> None:
            nonlocal done
            for i in order:  # one shared iterator: each index is taken by exactly one worker
                results[i], sim_runs[i] = await _run_item(graph, scorable[i], task, scorer, budget=budget, seed=seed)
                done += 1
                bar.advance(done)

        workers = [asyncio.create_task(worker()) for _ in range(min(concurrency, len(scorable)))]
        try:
            await asyncio.gather(*workers)
        except BudgetExceededError as exc:
            await _cancel(workers, hub)
            raise BudgetExceededError(str(exc), partial=finish(partial=True)) from exc
        except BaseException as exc:
            await _cancel(workers, hub, interrupted=isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt)))
            raise
    return checked(finish(partial=False))


async def _cancel(workers: list[asyncio.Task], hub: ModelHub, interrupted: bool = False) -> None:
    """End the workers, then wait for their real calls on the wire (`models.in_flight`): paid upstream
    whether or not read, they are counted and cached before the stop goes on, so a resume does not send them
    again. An interrupt (Ctrl-C, SIGTERM) waits at most `INTERRUPT_WAIT_S`, and says so."""
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    await hub.in_flight.settle(INTERRUPT_WAIT_S if interrupted else None)


def evaluate_sync(spec: GraphSpec | RouterSpec, task: Task, items: Sequence[Item], **kwargs: Any) -> EvalResult:
    """`evaluate` in a fresh event loop (for scripts; inside a running loop, await `evaluate`).

    The hub's network clients are closed before the loop ends (`run_closing`), so the same hub can be
    passed to the next call.
    """
    refuse_running_loop("evaluate_sync", "evaluate(...)")
    return run_closing(lambda: evaluate(spec, task, items, **kwargs), kwargs.get("hub"))
