"""What the search benchmarks share (search_efficiency, generalization): one setting's ground truth and
the searches judged against it.

A *setting* is (sim world, task family, FLOPs budget) over the ensemble space: up to `max_nodes - 1`
solver/fuser workers feeding one solver/fuser output node, no worker-to-worker edges, over the sim
sizes that fit the budget. Its ground truth is every distinct graph's accuracy over thousands of fresh
synthetic items (`TruthTable`, cached on disk); the optimum is the best of them. A search runs the
real loop (`run_search`) on a synthetic task of the same family with item runs through
`SimTableExecutor` (the runtime's scores, checked against `evaluate` first); after every iteration the
graph it would choose then is looked up in the truth table, against the item runs charged so far
(pilot, iterations and the final re-check all count). Two measures come from that curve: the first
evaluation count at which the chosen graph is within `TARGET_SHARE` of the optimum, and the count from
which it stays there to the end.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import graphgen as gg
from benchmarks.common import say
from benchmarks.simexec import SimExecutor, SimTableExecutor, check_executor_against_evaluate
from benchmarks.synthetic import SyntheticTask, synthetic_items
from benchmarks.truth import TruthTable, shape_key, unique_shapes
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.api import make_optimizer
from rolegraph.optimize.baselines.exhaustive import enumerate_graphs
from rolegraph.optimize.context import SearchConfig, SearchContext
from rolegraph.optimize.loop import run_search
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.trace import CHARGED_PHASES
from rolegraph.settings import Settings

TARGET_SHARE = 0.98
MEASURES = ("first", "stay")
"""The two measures of a search's curve, as stored per run: `first_reach` and `reach_and_stay`."""
ROLES = ("solver", "fuser")
TRUTH_SEED, TASK_SEED = 1001, 7
EXACT_SEED = 9191
"""Items of the exact tier: independent of the coarse and fine items the graphs near the top were picked on, so the
accuracy that judges them does not carry that pick's luck (the best of a dozen noisy scores is biased upward)."""
SAVE_EVERY = 25  # truth-table graphs between saves (a killed run keeps what it computed)
EPS = 1e-12


def truth_name(world: int, family: str) -> str:
    """The truth table's cache name (world 0's MATH table keeps the name it had before worlds)."""
    return f"truth-{family}" if world == 0 else f"truth-w{world}-{family}"


def make_space(pool: ModelPool, budget: float, max_nodes: int, family: str = "math") -> SearchSpace:
    return SearchSpace(pool=pool, models=gg.SIM_SIZES, roles=ROLES, max_nodes=max_nodes, budget=budget,
                       worker_edges=False, family=family)


def first_reach(curve: list[tuple[int, float]], target: float) -> float:
    """Evaluations at which the curve's true accuracy first reaches `target` (inf if never)."""
    return next((float(e) for e, a in curve if a >= target - EPS), math.inf)


def reach_and_stay(curve: list[tuple[int, float]], target: float) -> float:
    """Evaluations from which the graph it would pick stays at or above `target` to the end (inf if the
    final choice is below it): a search that passes the optimum by luck and drops it has not found it."""
    at = math.inf
    for e, a in curve:
        if a >= target - EPS:
            at = min(at, float(e))
        else:
            at = math.inf
    return at


def censored(x: float, cap: float) -> float:
    """A search that never reaches the target counts as having spent the whole evaluation budget."""
    return x if math.isfinite(x) else float(cap)


def on_grid(curve: list[tuple[int, float]], grid: list[int]) -> list[float | None]:
    """The curve as a step function sampled at `grid` (None before its first point)."""
    out, j, cur = [], 0, None
    for g in grid:
        while j < len(curve) and curve[j][0] <= g:
            cur = curve[j][1]
            j += 1
        out.append(cur)
    return out


@dataclass
class Setting:
    """One (world, family, budget): the space, its graphs' true accuracies and the optimum."""

    world: int
    family: str
    budget: float
    space: SearchSpace
    graphs: list[GraphSpec]
    accuracies: dict[str, float]  # shape key -> true accuracy (the exact table's, else the fine's, else the coarse)
    optimum_key: str
    truth: TruthTable
    task: SyntheticTask
    executor_check_runs: int = 0
    fine: TruthTable | None = None
    fine_keys: frozenset[str] = frozenset()
    exact: TruthTable | None = None
    exact_keys: frozenset[str] = frozenset()

    def accuracy(self, spec: GraphSpec) -> float:
        """True accuracy of `spec`: over the exact tier's items for the graphs nearest the optimum, the fine items
        for the others near it, else the coarse."""
        key = shape_key(spec)
        if self.exact is not None and key in self.exact_keys:
            return self.exact.accuracy(spec)
        if self.fine is not None and key in self.fine_keys:
            return self.fine.accuracy(spec)
        return self.truth.accuracy(spec)

    def save(self) -> None:
        for table in (self.truth, self.fine, self.exact):
            if table is not None:
                table.save()

    @property
    def optimum(self) -> float:
        return self.accuracies[self.optimum_key]

    @property
    def optimum_graph(self) -> GraphSpec:
        return next(s for s in self.graphs if shape_key(s) == self.optimum_key)

    def label(self) -> str:
        return f"world {self.world} {self.family} budget {self.budget:g}"


class Bench:
    """One world's pool, executors and hub: builds settings and runs searches on them."""

    def __init__(self, pool: ModelPool, home: Path, results_dir: Path, world: int = 0):
        self.pool = pool
        self.world = world
        self.results_dir = results_dir
        self.executor = SimExecutor(Settings(home=home, cache=False), pool)
        self.table = SimTableExecutor(self.executor)
        self.hub = ModelHub(pool, Settings(home=home, cache=False))

    def setting(self, family: str, budget: float, cfg: dict[str, Any], check: bool = True) -> Setting:
        """Enumerate the space, score every graph on the truth items (cached), find the optimum."""
        space = make_space(self.pool, budget, cfg["max_nodes"], family)
        graphs = [spec for _, spec in enumerate_graphs(space)]
        if not unique_shapes(graphs):
            raise AssertionError("two enumerated graphs share a shape key")
        task = SyntheticTask(family, cfg["task_items"], seed=TASK_SEED)  # type: ignore[arg-type]
        checked = 0
        if check:
            sample = graphs[:: max(1, len(graphs) // 3)][:3]
            checked = check_executor_against_evaluate(self.table, sample, task, task.items("train")[: cfg["check_items"]])
        truth = self._table(family, cfg["truth_items"], truth_name(self.world, family))
        accs = self._score(truth, graphs)
        fine, fine_keys = None, frozenset()
        if cfg.get("fine_truth_items"):
            # racing the truth: every graph on the coarse items, those near the best on many more
            top = max(accs.values())
            near = [g for g in graphs if accs[shape_key(g)] >= top - cfg["fine_margin"]]
            fine = self._table(family, cfg["fine_truth_items"], truth_name(self.world, family) + "-fine")
            accs.update(self._score(fine, near))
            fine_keys = frozenset(shape_key(g) for g in near)
        exact, exact_keys = None, frozenset()
        if cfg.get("exact_truth_items"):
            # the graphs that decide the target, on items of their own (EXACT_SEED): a tighter and unbiased optimum
            top = max(accs.values())
            nearest = [g for g in graphs if accs[shape_key(g)] >= top - cfg["exact_margin"]]
            exact = self._table(family, cfg["exact_truth_items"], truth_name(self.world, family) + "-exact", EXACT_SEED)
            accs.update(self._score(exact, nearest))
            exact_keys = frozenset(shape_key(g) for g in nearest)
        best = max(accs, key=accs.__getitem__)
        setting = Setting(self.world, family, budget, space, graphs, accs, best, truth, task, checked, fine, fine_keys,
                          exact, exact_keys)
        say(f"{setting.label()}: {len(graphs)} graphs, optimum {setting.optimum:.3f}")
        return setting

    def _table(self, family: str, n: int, name: str, seed: int = TRUTH_SEED) -> TruthTable:
        items = synthetic_items(family, n, seed=seed)  # type: ignore[arg-type]
        return TruthTable(self.executor, items, name=name, results_dir=self.results_dir)

    @staticmethod
    def _score(truth: TruthTable, graphs: list[GraphSpec]) -> dict[str, float]:
        """Every graph's accuracy in `truth`, saved as it goes and when stopped (Ctrl-C keeps what was computed)."""
        accs: dict[str, float] = {}
        try:
            for i, spec in enumerate(graphs):
                accs[shape_key(spec)] = truth.accuracy(spec)
                if i % SAVE_EVERY == 0:
                    truth.save()
        finally:
            truth.save()
        return accs

    async def search(self, name: str, seed: int, setting: Setting, cfg: dict[str, Any]) -> dict[str, Any]:
        """One search; its curve is (evaluations spent, true accuracy of the graph it would pick then).

        Also counts how the search's evidence on the optimum was spread over hashes: the trace pools
        isomorphic copies under one hash, so "copies" is 1 whenever the optimum was scored."""
        config = SearchConfig(iterations=None, max_evaluations=cfg["max_evaluations"], samples=cfg["samples"],
                              batch=cfg["batch"], top_candidates=cfg["top_candidates"],
                              validation_items=cfg["validation_items"], test_items=1, seed=seed,
                              compare_singles=False)
        ctx = SearchContext(task=setting.task, space=setting.space, hub=self.hub, config=config, executor=self.table)
        final = await run_search(ctx, make_optimizer(name), None, False)
        picks = [(it.evaluations, ctx.graph(it.best_hash)) for it in ctx.trace.iterations if it.best_hash is not None]
        picks.append((ctx.spent, ctx.graph(final.chosen_hash)))
        curve = [(e, setting.accuracy(g)) for e, g in picks]
        final_acc = curve[-1][1]
        items_by_hash: dict[str, int] = {}
        for r in ctx.trace.records:
            if r.phase in CHARGED_PHASES:
                items_by_hash[r.graph_hash] = items_by_hash.get(r.graph_hash, 0) + r.n
        on_optimum = [n for h, n in items_by_hash.items() if shape_key(ctx.graph(h)) == setting.optimum_key]
        chosen = next(c for c in final.candidates if c["hash"] == final.chosen_hash)
        best_candidate = max(setting.accuracy(ctx.graph(c["hash"])) for c in final.candidates)
        return {"optimizer": name, "seed": seed, "curve": curve, "final_accuracy": final_acc,
                **_choices(picks),
                "evaluations": ctx.spent, "iterations": sum(1 for it in ctx.trace.iterations if it.iteration > 0),
                "distinct_graphs": len(ctx.graphs),
                "distinct_shapes": len({shape_key(ctx.graph(h)) for h in ctx.graphs}),
                "optimum_copies": len(on_optimum), "optimum_items": sum(on_optimum),
                "optimum_items_best_copy": max(on_optimum, default=0),
                "final_graph": ctx.graph(final.chosen_hash).model_dump(mode="json", exclude_defaults=True),
                "p_best": chosen.get("p_best"), "best_of_candidates": final_acc >= best_candidate - EPS}

    def close(self) -> None:
        self.table.close()


def _choices(picks: list[tuple[int, GraphSpec]]) -> dict[str, list]:
    """The graphs a search would have picked as it went, each stored once ("picked") and named by index in
    "choices" (evaluations, index): a later, better truth can judge the run again without running it."""
    shapes: list = []
    choices = [(e, shape_index(shapes, g)) for e, g in picks]
    return {"choices": choices, "picked": [k.spec.model_dump(mode="json", exclude_defaults=True) for k in shapes]}


def shape_index(shapes: list, spec: GraphSpec) -> int:
    """Index of `spec`'s shape in `shapes`, appended when new: isomorphic graphs share one index."""
    key = shape_key(spec)
    if key not in shapes:
        shapes.append(key)
    return shapes.index(key)


def summarize(runs: list[dict], optimum: float) -> dict[str, Any]:
    """Per optimizer over seeds: medians of first reach, reach and stay (inf = never), final gap."""
    target = TARGET_SHARE * optimum
    reach = [reach_and_stay(r["curve"], target) for r in runs]
    first = [first_reach(r["curve"], target) for r in runs]
    gaps = [optimum - r["final_accuracy"] for r in runs]
    return {"median_evaluations_to_98pct": statistics.median(reach), "reached": sum(math.isfinite(x) for x in reach),
            "first_reached": sum(math.isfinite(x) for x in first),
            "runs": len(runs), "evaluations_to_98pct": reach, "median_final_gap": statistics.median(gaps),
            "median_first_touch_98pct": statistics.median(first), "first_touch_98pct": first,
            "median_optimum_copies": statistics.median(r["optimum_copies"] for r in runs),
            "median_optimum_items": statistics.median(r["optimum_items"] for r in runs),
            "median_optimum_items_best_copy": statistics.median(r["optimum_items_best_copy"] for r in runs),
            "final_gaps": gaps, "median_final_accuracy": statistics.median(r["final_accuracy"] for r in runs)}


def fmt_evals(x: float, cap: int) -> str:
    return f"> {cap}" if not math.isfinite(x) else f"{x:.0f}"
