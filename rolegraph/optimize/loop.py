"""The search loop shared by every optimizer: batches, evaluation accounting, checkpoints, the final
choice.

Determinism: every random draw comes from a generator seeded by (seed, iteration, stream), never
from state carried across iterations, and evaluations are keyed by (graph, items, eval seed), so
a run resumed from its last checkpoint replays the interrupted iteration exactly, answered from
the response cache. Accounting: a graph scored on b items costs b item runs, whether in the
pilot, an iteration, or the final re-check of the top candidates on validation items; the test
score that is reported at the end is not charged to the search.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from rolegraph.errors import SearchError
from rolegraph.evaluate.result import EvalResult, NodeStats
from rolegraph.graphs.io import graph_hash
from rolegraph.graphs.isomorphism import StructureIndex
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.optimize.base import Optimizer, Proposal
from rolegraph.optimize.choices import from_graph
from rolegraph.optimize.recheck import recheck
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.trace import (
    SELECTION_Z,
    EvalRecord,
    Evaluation,
    FeedbackRecord,
    IterationRecord,
    SearchTrace,
    pooled,
    prior_accuracy,
    ranked,
)
from rolegraph.tasks.base import Task

SAMPLE_STREAM = 1
BATCH_STREAM = 2
FIXED_BATCH_KEY = 1
"""Optimizers with `fixed_batch` score every graph on iteration 1's batch."""


@dataclass
class SearchConfig:
    iterations: int | None = 10
    samples: int = 4
    batch: int = 16
    max_evaluations: int | None = None
    top_candidates: int = 3
    validation_items: int = 48
    test_items: int = 100
    seed: int = 0
    eval_seed: int = 0
    data_seed: int = 0
    concurrency: int = 8
    compare_singles: bool = True

    def __post_init__(self) -> None:
        for name in ("samples", "batch", "top_candidates", "validation_items", "test_items", "concurrency"):
            if getattr(self, name) < 1:
                raise SearchError(f"{name.replace('_', ' ')} must be at least 1, got {getattr(self, name)}")
        if self.iterations is not None and self.iterations < 0:
            raise SearchError(f"iterations must be >= 0, got {self.iterations}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def reserve(self) -> int:
        """Item runs kept back for the final re-check of the top candidates."""
        return self.top_candidates * self.validation_items


def rng_for(seed: int, iteration: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, iteration, stream]))


def _stop_on_failures(results: list[EvalResult]) -> None:
    """Item runs that failed (model calls out of retries, a node error) are not wrong answers: a
    search that recorded them would rank graphs by the endpoint's health. Stop before anything of
    this step is recorded; the last checkpoint stays intact and `--resume` replays the step."""
    for res in results:
        if res.failures:
            first = next((it.error for it in res.items if it.error), "unknown error")
            first = " ".join(str(first).split())[:200]
            raise SearchError(
                f"{res.failures} of {res.n} item runs of graph '{res.graph_name}' failed "
                f"(first: {first}); the search stopped at its last checkpoint: fix the cause "
                "and continue with --resume"
            )


@dataclass
class SearchContext:
    """What optimizers may use: batches, evaluation (charged and traced), the best so far."""

    task: Task
    space: SearchSpace
    hub: ModelHub
    config: SearchConfig
    toolbox: Any = None
    optimizer_name: str = "search"
    executor: Any = None  # where item evaluations run (rolegraph.evaluate.executors); None: in this process
    trace: SearchTrace = field(default_factory=SearchTrace)
    graphs: dict[str, dict] = field(default_factory=dict)
    _splits: dict[str, list[Item]] = field(default_factory=dict)
    _index: StructureIndex | None = None

    def canonical_hash(self, spec: GraphSpec) -> str:
        """The hash evidence on `spec` pools under: the first isomorphic graph scored in this search.

        Sampling one structure in other slots then adds evidence to it instead of a new contender.
        The index is derived from `graphs` (rebuilt after a restore), so it needs no checkpoint."""
        if self._index is None:
            self._index = StructureIndex(GraphSpec.model_validate(g) for g in self.graphs.values())
        return self._index.canonical(spec)

    def restore_graphs(self, graphs: dict[str, dict]) -> None:
        self.graphs = graphs
        self._index = None

    def split(self, name: str) -> list[Item]:
        if name not in self._splits:
            items = [it for it in self.task.items(name, seed=self.config.data_seed) if it.gold is not None]
            if not items:
                raise SearchError(f"task '{self.task.name}' has no {name} items")
            self._splits[name] = items
        return self._splits[name]

    def batch(self, iteration: int, size: int | None = None) -> list[Item]:
        """The training batch of an iteration: b items drawn from (seed, iteration) alone."""
        train = self.split("train")
        size = min(size or self.config.batch, len(train))
        picks = rng_for(self.config.seed, iteration, BATCH_STREAM).choice(len(train), size=size, replace=False)
        return [train[int(k)] for k in picks]

    @property
    def spent(self) -> int:
        return self.trace.spent

    def graph(self, ghash: str) -> GraphSpec:
        return GraphSpec.model_validate(self.graphs[ghash])

    def best(self) -> tuple[GraphSpec | None, float | None, int]:
        """(graph, pooled training objective, items it was scored on) of the best graph so far."""
        order = ranked(self.trace.records, self.space.objective)
        if not order:
            return None, None, 0
        ghash = order[0][0]
        stats = pooled(self.trace.records)[ghash]
        return self.graph(ghash), stats.objective(self.space.objective), stats.n

    def leaderboard(self) -> list[tuple[GraphSpec, float, int]]:
        """Every graph scored so far, best first: (graph, shrunk pooled training objective, items)."""
        stats = pooled(self.trace.records)
        return [(self.graph(h), v, stats[h].n) for h, v in ranked(self.trace.records, self.space.objective)]

    def log_feedback(self, record: FeedbackRecord) -> None:
        self.trace.feedback.append(record)

    async def evaluate(
        self, proposals: list[Proposal], items: list[Item], iteration: int, phase: str, charged: bool | None = None
    ) -> list[Evaluation]:
        """Score each distinct proposal on `items` concurrently; records appended in proposal order.

        Proposals isomorphic to one already in the list are scored once; each record carries the
        structure's canonical hash, so evidence pools across isomorphic copies."""
        from rolegraph.evaluate.runner import evaluate

        unique: dict[str, Proposal] = {}
        for p in proposals:
            unique.setdefault(self.canonical_hash(p.graph), p)
        named = []
        for h, p in unique.items():
            label = (p.meta or {}).get("label")
            name = p.graph.name if label else f"{self.optimizer_name}-{h[:8]}"
            named.append((h, p, p.graph.model_copy(update={"name": name})))
        results: list[EvalResult] = await asyncio.gather(
            *(
                evaluate(
                    spec,
                    self.task,
                    items,
                    hub=self.hub,
                    toolbox=self.toolbox,
                    concurrency=self.config.concurrency,
                    seed=self.config.eval_seed,
                    progress=False,
                    label=f"{phase}:{spec.name}",
                    executor=self.executor,
                )
                for _, _, spec in named
            )
        )
        _stop_on_failures(results)
        out = []
        for (h, p, spec), res in zip(named, results):
            record = self._record(h, spec, res, iteration, phase, p.source)
            choices = p.choices if p.choices is not None else from_graph(self.space, spec)
            out.append(Evaluation(record=record, graph=spec, choices=choices, per_node=res.per_node))
        return out

    def _record(self, h: str, spec: GraphSpec, res: EvalResult, iteration: int, phase: str, source: str) -> EvalRecord:
        """Append `res` to the trace under the structure hash `h` (and remember the graph)."""
        dollars = res.cost_usd / max(res.n, 1)
        record = EvalRecord(
            seq=len(self.trace.records),
            iteration=iteration,
            phase=phase,
            source=source,
            graph_hash=h,
            graph_name=spec.name,
            objective=self.space.objective.value(res.accuracy, res.mean_latency_s, dollars),
            accuracy=res.accuracy,
            latency_s=res.mean_latency_s,
            dollars=dollars,
            flops_units=res.flops_units,
            n=res.n,
            items=[it.item_id for it in res.items],
            simulated=res.simulated,
        )
        self.trace.records.append(record)
        record.evaluations = self.trace.spent
        self.graphs.setdefault(h, spec.model_dump(mode="json"))
        return record

    async def evaluate_full(
        self, spec: GraphSpec, items: list[Item], iteration: int, phase: str, source: str
    ) -> tuple[Evaluation, EvalResult]:
        """Like `evaluate` for one graph, also returning the EvalResult (for intervals)."""
        from rolegraph.evaluate.runner import evaluate

        res = await evaluate(
            spec,
            self.task,
            items,
            hub=self.hub,
            toolbox=self.toolbox,
            executor=self.executor,
            concurrency=self.config.concurrency,
            seed=self.config.eval_seed,
            progress=False,
            label=f"{phase}:{spec.name}",
        )
        _stop_on_failures([res])
        record = self._record(self.canonical_hash(spec), spec, res, iteration, phase, source)
        return Evaluation(record=record, graph=spec, choices=None, per_node=res.per_node), res


class TestScore(BaseModel):
    """A graph's score on held-out test items (reported, not charged to the search)."""

    label: str
    graph_hash: str
    accuracy: float
    ci95: tuple[float, float]
    n: int
    latency_s: float
    dollars: float
    flops_units: float
    objective: float
    simulated: bool


class FinalChoice(BaseModel):
    chosen_hash: str
    candidates: list[dict]  # hash, training objective, training items, validation objective
    test: TestScore
    singles: list[TestScore] = Field(default_factory=list)
    per_node: dict[str, NodeStats] = Field(default_factory=dict)  # the chosen graph's per-node credit, test items

    @property
    def best_single(self) -> TestScore | None:
        return max(self.singles, key=lambda s: (s.objective, -s.flops_units), default=None)


def _test_score(label: str, res: EvalResult, objective: float) -> TestScore:
    return TestScore(
        label=label,
        graph_hash=res.graph_hash,
        accuracy=res.accuracy,
        ci95=tuple(res.ci95),
        n=res.n,
        latency_s=res.mean_latency_s,
        dollars=res.cost_usd / max(res.n, 1),
        flops_units=res.flops_units,
        objective=objective,
        simulated=res.simulated,
    )


class _Bar:
    """A rich progress line (iteration, evaluations spent, best so far) on a terminal only."""

    def __init__(self, show: bool, total: int | None, name: str):
        self._progress = None
        if show:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(name, total=total, info="")

    def update(self, iteration: int, spent: int, best: float | None) -> None:
        if self._progress is not None:
            info = f"evaluations {spent}  best {best:.3f}" if best is not None else f"evaluations {spent}"
            self._progress.update(self._task, completed=iteration, info=info)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _checkpoint(
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
    }
    store.save_checkpoint(
        iteration,
        phase,
        state,
        [r.model_dump() for r in ctx.trace.records],
        [f.model_dump() for f in ctx.trace.feedback],
        ctx.graphs,
    )


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
    if point is not None and point[1] == "done":
        return point[2]
    bar = _Bar(progress, cfg.iterations, f"{optimizer.name} on {ctx.task.name}")
    try:
        if point is None:
            await optimizer.start(ctx)
            iteration = 0
            if ctx.trace.records:  # the pilot: the curve starts where it left the search
                _log_iteration(ctx, iteration, [r.objective for r in ctx.trace.records])
            _checkpoint(store, ctx, optimizer, iteration, "search")
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
            _checkpoint(store, ctx, optimizer, iteration, "search")
            bar.update(iteration, ctx.spent, best_obj)
    finally:
        bar.close()
    final = await finish(ctx, iteration)
    _checkpoint(store, ctx, optimizer, iteration, "done", final)
    return final


async def finish(ctx: SearchContext, iteration: int) -> FinalChoice:
    """Re-check the top candidates on validation items (`recheck`), choose, and score the choice on test items.

    The choice pools each candidate's training and validation items (shrunk toward the mean): the
    validation items are fresh evidence, the training items are more of it.
    """
    cfg = ctx.config
    objective = ctx.space.objective
    order = ranked(ctx.trace.records, objective)
    if not order:
        raise SearchError("the search evaluated no graph: raise --iterations or the evaluation budget")
    top = order[: cfg.top_candidates]
    await recheck(ctx, [h for h, _ in top], iteration)
    stats = pooled(ctx.trace.records)
    prior = prior_accuracy(ctx.trace.records)
    rows = []
    for rank, (h, train_obj) in enumerate(top):
        rows.append(
            {
                "hash": h,
                "train_objective": train_obj,
                "train_items": stats[h].n,
                "validation_objective": stats[h].validation_objective(objective),
                "validation_items": stats[h].validation_n,
                "combined_objective": stats[h].combined_objective(objective, prior, SELECTION_Z),
                "rank": rank,
            }
        )
    chosen = max(rows, key=lambda r: (r["combined_objective"], -r["rank"]))
    spec = ctx.graph(chosen["hash"])
    test_items = ctx.split("test")[: cfg.test_items]
    _, res = await ctx.evaluate_full(spec, test_items, iteration, "test", "chosen")
    test = _test_score(spec.name, res, objective.value(res.accuracy, res.mean_latency_s, res.cost_usd / max(res.n, 1)))
    singles: list[TestScore] = []
    if cfg.compare_singles:
        for model_id in ctx.space.models:
            single = ctx.space.single(model_id)
            _, sres = await ctx.evaluate_full(single, test_items, iteration, "single", "single")
            singles.append(
                _test_score(
                    model_id, sres, objective.value(sres.accuracy, sres.mean_latency_s, sres.cost_usd / max(sres.n, 1))
                )
            )
    return FinalChoice(chosen_hash=chosen["hash"], candidates=rows, test=test, singles=singles, per_node=res.per_node)
