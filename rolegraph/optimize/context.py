"""`SearchContext`: what an optimizer may use during a search: its task, space and configuration,
the training batches, evaluation (charged and traced), and the best graph so far.

Determinism: every random draw comes from a generator seeded by (seed, iteration, stream), never
from state carried across iterations, and evaluations are keyed by (graph, items, eval seed), so
a run resumed from its last checkpoint replays the interrupted iteration exactly, answered from
the response cache. Accounting: a graph scored on b items costs b item runs, whether in the
pilot, an iteration, or the final re-check of the top candidates on validation items; the test
score that is reported at the end is not charged to the search.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np

from rolegraph.errors import BudgetExceededError, SearchError, one_line
from rolegraph.evaluate.result import EvalResult
from rolegraph.graphs.io import graph_hash
from rolegraph.graphs.isomorphism import StructureIndex
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.openai_errors import failure_advice
from rolegraph.models.provenance import ServedBy
from rolegraph.optimize.choices import from_graph
from rolegraph.optimize.proposal import Proposal
from rolegraph.optimize.shortfalls import SplitShortfallWarning as SplitShortfallWarning  # their home before
from rolegraph.optimize.shortfalls import split_shortfalls as split_shortfalls
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.spending import SpendMeter, TimedOutTally, end_step
from rolegraph.optimize.trace import (
    EvalRecord,
    Evaluation,
    FeedbackRecord,
    GraphStats,
    Phase,
    SearchTrace,
    pooled,
    ranked,
)
from rolegraph.search_defaults import (
    DEFAULT_BATCH,
    DEFAULT_ITERATIONS,
    DEFAULT_SAMPLES,
    DEFAULT_TEST_ITEMS,
    DEFAULT_VALIDATION_ITEMS,
)
from rolegraph.tasks.base import Split, Task
from rolegraph.tools.toolbox import ToolBox

SAMPLE_STREAM, BATCH_STREAM = 1, 2  # the seed streams of (seed, iteration, stream): samples, batches
ROUTING_RESERVES = 2
"""Default fit items for routing: this many times the re-check's reserve (288 at the default settings)."""
FIXED_BATCH_KEY = 1  # optimizers with `fixed_batch` score every graph on iteration 1's batch
FAILURE_CHARS = 1000  # of the first failure quoted on a stop: an endpoint's whole error and the fix it names fit


@dataclass
class SearchConfig:
    iterations: int | None = DEFAULT_ITERATIONS
    samples: int = DEFAULT_SAMPLES
    batch: int = DEFAULT_BATCH
    max_evaluations: int | None = None
    top_candidates: int = 3
    validation_items: int = DEFAULT_VALIDATION_ITEMS
    test_items: int = DEFAULT_TEST_ITEMS
    seed: int = 0
    eval_seed: int = 0
    data_seed: int = 0
    concurrency: int = 8
    compare_singles: bool = True
    max_dollars: float | None = None
    """Stop the search when its paid calls reach this many dollars (`spending.py`); None: no cap."""
    route_items: int | None = None
    """Fit items on which the front is scored at the end for routing (optimize/paired.py); 0: none; None: twice
    the re-check's reserve (`routing_items`), so small test searches stay small."""
    batch_offset: int = 0
    """Added to an iteration's number to draw its training batch (`SearchContext.batch`). A warm start sets it
    past the earlier run's last batch (`WarmStart.next_batch_key`): its batches were drawn from the same
    (seed, iteration), so with the default seed each graph it imported would be scored again on the very items
    of its imported evidence, the cached outcomes counted twice (n doubled, the interval narrowed on no news)."""

    def __post_init__(self) -> None:
        """Counts must be whole numbers: a float would be accepted by `range` only after rounding up (2.5
        iterations ran 3) and a string would fail later as a TypeError; numpy integers are taken as ints."""
        for name in ("samples", "batch", "top_candidates", "validation_items", "test_items", "concurrency"):
            if _count(self, name) < 1:
                raise SearchError(f"{name.replace('_', ' ')} must be at least 1, got {getattr(self, name)}")
        for name in ("seed", "eval_seed", "data_seed"):  # the search's draws (numpy) take no negative seed
            if _count(self, name) < 0 and name == "seed":
                raise SearchError(f"seed must be >= 0 (the search's draws are seeded by it), got {self.seed}")
        if _count(self, "batch_offset") < 0:
            raise SearchError(f"batch offset must be >= 0, got {self.batch_offset}")
        if self.route_items is not None and _count(self, "route_items") < 0:
            raise SearchError(f"route items must be >= 0, got {self.route_items}")
        if self.iterations is not None and _count(self, "iterations") < 0:
            raise SearchError(f"iterations must be >= 0, got {self.iterations}")
        if self.max_evaluations is not None and _count(self, "max_evaluations") < 1:
            raise SearchError(f"max evaluations must be at least 1, got {self.max_evaluations}")
        dollars = self.max_dollars
        if dollars is not None and (isinstance(dollars, bool) or not isinstance(dollars, Real)):
            raise SearchError(f"max dollars must be a number, got {dollars!r}")
        if dollars is not None and not (math.isfinite(dollars) and dollars > 0):
            raise SearchError(f"max dollars must be a finite positive number (or None: no cap), got {dollars:g}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def routing_items(self) -> int:
        """Fit items for routing (see `route_items`)."""
        return self.route_items if self.route_items is not None else ROUTING_RESERVES * self.reserve

    @property
    def reserve(self) -> int:
        """Item runs kept back for the final re-check of the top candidates."""
        return self.top_candidates * self.validation_items

    def min_evaluations(self, train_items: int) -> int:
        """The smallest evaluation budget under which the search scores a graph: the re-check's reserve plus
        one graph on one training batch (a batch is at most the train split). Below it the loop refuses every
        iteration (`loop._iteration_count`): the search ends having scored nothing, or only a cut pilot."""
        return self.reserve + max(1, min(self.batch, train_items))


def _count(config: SearchConfig, name: str) -> int:
    """The whole number `config.<name>` holds, stored back as a plain int; anything else is one SearchError."""
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise SearchError(f"{name.replace('_', ' ')} must be a whole number, got {value!r}")
    setattr(config, name, int(value))
    return int(value)


def rng_for(seed: int, iteration: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, iteration, stream]))


def _stop_on_failures(results: list[EvalResult]) -> None:
    """Item runs that failed (model calls out of retries, a node error) are not wrong answers: a
    search that recorded them would rank graphs by the endpoint's health. Stop before anything of
    this step is recorded; the last checkpoint stays intact and `--resume` replays the step."""
    for res in results:
        if res.failures:
            first = next((it.error for it in res.items if it.error), "unknown error")
            first = one_line(first, FAILURE_CHARS, ellipsis="…")  # a cut is marked, never silent
            raise SearchError(
                f"{res.failures} of {res.n} item runs of graph '{res.graph_name}' failed "
                f"(first: {first}); the search stopped at its last checkpoint: {failure_advice(first)}"
            )


def _served(res: EvalResult) -> dict[str, ServedBy]:
    """What answered each model of an evaluation (its provenance, as the trace keeps it)."""
    if res.provenance is None:
        return {}
    return {
        model_id: ServedBy(served_model=m.served_model, simulated=m.simulated, sim_fingerprint=m.sim_fingerprint)
        for model_id, m in res.provenance.models.items()
    }


@dataclass
class SearchContext:
    """What optimizers may use: batches, evaluation (charged and traced), the best so far."""

    task: Task
    space: SearchSpace
    hub: ModelHub
    config: SearchConfig
    toolbox: ToolBox | None = None
    optimizer_name: str = "search"
    executor: Any = None  # where item evaluations run (rolegraph.evaluate.executors); None: in this process
    warm: Any = None  # a WarmStart (rolegraph.optimize.warmstart): begin from an earlier run's state
    trace: SearchTrace = field(default_factory=SearchTrace)
    spend: SpendMeter | None = None  # the dollar meter of paid calls (run_search installs it)
    timed_out: TimedOutTally | None = None  # the run's requests abandoned at a timeout (run_search installs it)
    graphs: dict[str, dict] = field(default_factory=dict)
    _splits: dict[str, list[Item]] = field(default_factory=dict)
    _index: StructureIndex | None = None
    _stats: tuple[tuple[int, int], dict[str, GraphStats]] | None = None

    def canonical_hash(self, spec: GraphSpec) -> str:
        """The hash evidence on `spec` pools (or would pool) under: the first isomorphic graph scored in this
        search, else `spec`'s own hash. A lookup: only a graph that is scored joins the index (`register`).

        Sampling one structure in other slots then adds evidence to it instead of a new contender.
        Why a lookup does not register: a graph looked up but never scored (a proposal that got no slot)
        would become the canonical form of its structure, so a later isomorphic copy's evidence would be filed
        under a hash that is not the stored graph's, and an index rebuilt from `graphs` on resume would file
        the copy's next runs under another hash."""
        return self._structures().find(spec) or graph_hash(spec)

    def register(self, spec: GraphSpec) -> str:
        """`spec`'s canonical hash, adding it to the index as its structure's canonical form if it is new."""
        return self._structures().canonical(spec)

    def _structures(self) -> StructureIndex:
        """The index is derived from `graphs` (rebuilt after a restore), so it needs no checkpoint."""
        if self._index is None:
            self._index = StructureIndex(GraphSpec.model_validate(g) for g in self.graphs.values())
        return self._index

    def restore_graphs(self, graphs: dict[str, dict]) -> None:
        self.graphs = graphs
        self._index = None

    def split(self, name: Split) -> list[Item]:
        if name not in self._splits:
            items = [it for it in self.task.items(name, seed=self.config.data_seed) if it.gold is not None]
            if not items:
                raise SearchError(f"task '{self.task.name}' has no {name} items")
            self._splits[name] = items
        return self._splits[name]

    def batch(self, iteration: int, size: int | None = None) -> list[Item]:
        """The training batch of an iteration: b items drawn from (seed, iteration) alone (the iteration counted
        from `config.batch_offset`: a warm start's batches follow the earlier run's)."""
        train = self.split("train")
        size = min(size or self.config.batch, len(train))
        key = self.config.batch_offset + iteration
        picks = rng_for(self.config.seed, key, BATCH_STREAM).choice(len(train), size=size, replace=False)
        return [train[int(k)] for k in picks]

    @property
    def spent(self) -> int:
        return self.trace.spent

    def graph(self, ghash: str) -> GraphSpec:
        return GraphSpec.model_validate(self.graphs[ghash])

    def stats(self) -> dict[str, GraphStats]:
        """`pooled(trace.records)`, computed once per state of the trace (records are only appended)."""
        key = (id(self.trace.records), len(self.trace.records))
        if self._stats is None or self._stats[0] != key:
            self._stats = (key, pooled(self.trace.records))
        return self._stats[1]

    def best(self) -> tuple[GraphSpec | None, float | None, int]:
        """(graph, pooled training objective, items it was scored on) of the best graph so far."""
        order = ranked(self.trace.records, self.space.objective, stats=self.stats())
        if not order:
            return None, None, 0
        ghash = order[0][0]
        stats = self.stats()[ghash]
        return self.graph(ghash), stats.objective(self.space.objective), stats.n

    def leaderboard(self) -> list[tuple[GraphSpec, float, int]]:
        """Every graph scored so far, best first: (graph, shrunk pooled training objective, items)."""
        stats = self.stats()
        order = ranked(self.trace.records, self.space.objective, stats=stats)
        return [(self.graph(h), v, stats[h].n) for h, v in order]

    def evidence(self) -> list[tuple[GraphSpec, float, int]]:
        """Every graph scored on training items so far: (graph, pooled objective adjusted for batch
        difficulty but not shrunk, items), in the order first scored."""
        objective = self.space.objective
        return [(self.graph(h), s.objective(objective), s.n) for h, s in self.stats().items() if s.n > 0]

    def log_feedback(self, record: FeedbackRecord) -> None:
        self.trace.feedback.append(record)

    async def evaluate(
        self, proposals: list[Proposal], items: list[Item], iteration: int, phase: Phase, charged: bool | None = None
    ) -> list[Evaluation]:
        """Score each distinct proposal on `items` concurrently; records appended in proposal order.

        Proposals isomorphic to one already in the list are scored once; each record carries the
        structure's canonical hash, so evidence pools across isomorphic copies."""
        from rolegraph.evaluate.runner import evaluate

        self._check_spend()
        unique: dict[str, Proposal] = {}
        batch = StructureIndex()  # copies of one new structure in this list: the first is scored and registered
        for p in proposals:
            unique.setdefault(self._structures().find(p.graph) or batch.canonical(p.graph), p)
        named = []
        for h, p in unique.items():
            label = (p.meta or {}).get("label")
            name = p.graph.name if label else f"{self.optimizer_name}-{h[:8]}"
            named.append((h, p, p.graph.model_copy(update={"name": name})))
        results: list[EvalResult] = await self._capped(
            *(
                evaluate(
                    spec,
                    self.task,
                    items,
                    hub=self.hub,
                    toolbox=self.toolbox,
                    roles=self.space.registry,
                    concurrency=self.config.concurrency,
                    seed=self.config.eval_seed,
                    progress=False,
                    label=f"{phase}:{spec.name}",
                    executor=self.executor,
                    raise_on_all_failed=False,  # _stop_on_failures stops on any failure, with --resume's hint
                )
                for _, _, spec in named
            ),
            phase=phase,
        )
        _stop_on_failures(results)
        out = []
        for (h, p, spec), res in zip(named, results):
            record = self._record(h, spec, res, iteration, phase, p.source)
            choices = p.choices if p.choices is not None else from_graph(self.space, spec)
            out.append(Evaluation(record=record, graph=spec, choices=choices, per_node=res.per_node))
        return out

    def _check_spend(self) -> None:
        if self.spend is not None:
            self.spend.check()

    async def _capped(self, *evaluations, phase: Phase = "search") -> list[EvalResult]:
        """Await the evaluations; a paid call refused by the dollar cap stops the search (nothing of
        this step is recorded, so the last checkpoint stands and --resume replays the step)."""
        tasks = [asyncio.ensure_future(e) for e in evaluations]
        try:
            return list(await asyncio.gather(*tasks))
        except BudgetExceededError:
            if self.spend is not None and self.spend.refused is not None:
                raise self.spend.stop_error(phase) from None
            raise
        finally:  # a stop ends the step's other evaluations (left running, they paid calls no session counted) and
            await end_step(tasks, self.hub.in_flight)  # waits for their admitted calls: counted and cached

    def _record(
        self, h: str, spec: GraphSpec, res: EvalResult, iteration: int, phase: Phase, source: str
    ) -> EvalRecord:
        """Append `res` to the trace under the structure hash `h` (and remember the graph, registered in the
        index: `h` is its canonical hash, so `graph_hash(graphs[h]) == h` for every graph stored)."""
        self.register(spec)
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
            simulation=res.simulation,
            trimmed_items=res.trimmed_items,
            served=_served(res),
        )
        self.trace.records.append(record)
        record.evaluations = self.trace.spent
        self.graphs.setdefault(h, spec.model_dump(mode="json"))
        return record

    async def evaluate_full(
        self, spec: GraphSpec, items: list[Item], iteration: int, phase: Phase, source: str
    ) -> tuple[Evaluation, EvalResult]:
        """Like `evaluate` for one graph, also returning the EvalResult (for intervals)."""
        from rolegraph.evaluate.runner import evaluate

        self._check_spend()
        (res,) = await self._capped(
            evaluate(
                spec,
                self.task,
                items,
                hub=self.hub,
                toolbox=self.toolbox,
                roles=self.space.registry,
                executor=self.executor,
                concurrency=self.config.concurrency,
                seed=self.config.eval_seed,
                progress=False,
                label=f"{phase}:{spec.name}",
                raise_on_all_failed=False,  # _stop_on_failures stops on any failure, with --resume's hint
            ),
            phase=phase,
        )
        _stop_on_failures([res])
        record = self._record(self.register(spec), spec, res, iteration, phase, source)
        return Evaluation(record=record, graph=spec, choices=None, per_node=res.per_node), res
