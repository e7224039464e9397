"""The end of a search: re-check the top candidates, choose one, and score it on held-out test items."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, model_validator

from rolegraph.errors import SearchError
from rolegraph.evaluate.result import EvalResult, NodeStats
from rolegraph.evaluate.stats import wilson_interval
from rolegraph.models.provenance import Simulation
from rolegraph.optimize.confidence import p_best
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.pareto import points
from rolegraph.optimize.recheck import recheck
from rolegraph.optimize.trace import SELECTION_Z, GraphStats, pooled, prior_accuracy, ranked


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
    simulation: Simulation | None = None  # "simulated", "partly simulated" or "real" (None: recorded before)
    calls: int = 0
    cached_calls: int = 0
    """Calls answered from the response cache (their latency is the one measured when first made). Stored with
    the score (checkpoint, trace): a resumed search reports the figures of the session that measured them."""
    calls_recorded: bool = Field(default=True, exclude=True)
    """False for a score stored before calls were kept (no "calls" in it): its 0s are unknown, not counts, and
    `SearchResult.summary` says null. Derived on load, so never stored itself."""

    @model_validator(mode="before")
    @classmethod
    def _unrecorded_calls(cls, data: Any) -> Any:
        if isinstance(data, dict) and "calls" not in data:
            return {**data, "calls_recorded": False}
        return data


@dataclass(frozen=True)
class SelectionFigures:
    """A graph's mean latency and $ per item on the items it was chosen on (training and validation pooled, as
    `GraphStats.combined_objective` ranks it): whether the chosen graph met a cap where it was chosen."""

    latency_s: float
    dollars: float

    @classmethod
    def of(cls, stats: GraphStats) -> SelectionFigures | None:
        n = stats.n + stats.validation_n
        if not n:
            return None
        return cls(
            (stats.latency_sum + stats.validation_latency_sum) / n,
            (stats.dollars_sum + stats.validation_dollars_sum) / n,
        )


class FinalChoice(BaseModel):
    chosen_hash: str
    candidates: list[dict]  # `candidate_row`: raw accuracies with intervals, and the labelled selection scores
    test: TestScore
    singles: list[TestScore] = Field(default_factory=list)
    per_node: dict[str, NodeStats] = Field(default_factory=dict)  # the chosen graph's per-node credit, test items
    cap_miss: str | None = None  # "no graph met the latency cap ..." (Objective.cap_miss); None: met, or no cap
    test_runs: dict[str, EvalResult] = Field(default_factory=dict, exclude=True)
    """The test evaluations behind `test` and `singles`, by graph hash, for this session only (never stored): the
    routing phase files them as the paired test runs instead of scoring the same graphs on the same items again.
    A replay from the response cache re-measures the framework's time, so `rolegraph results` showed 36.45 s for
    the chosen graph where report.md and `optimize --json` said 36.43 s: one evaluation, one figure."""

    @property
    def best_single(self) -> TestScore | None:
        return max(self.singles, key=lambda s: (s.objective, -s.flops_units), default=None)


SELECTION_NOTE = (
    "training and validation figures are selection figures: raw accuracies of the items the choice was made "
    "on, optimistic for the chosen graph; *_adjusted/*_shrunk values are ranking scores, not accuracies; the "
    "test accuracy is held out and unbiased; p_best is the chosen graph's chance of being the best of the "
    "p_best_of top candidates, not all of them necessarily re-checked on validation items (posterior draws; it says "
    "nothing of graphs the search dropped earlier)"
)


def selection_summary(candidates: list[dict], chosen_hash: str) -> dict | None:
    """The chosen graph's selection figures for `optimize --json`, each named for what it is."""
    row = next((c for c in candidates if c["hash"] == chosen_hash), None)
    if row is None:
        return None
    return {
        "note": SELECTION_NOTE,
        "training": {
            "accuracy": row.get("train_accuracy_raw"),
            "ci95": row.get("train_ci95"),
            "n": row.get("train_items"),
            "objective_adjusted_shrunk": row.get("train_objective"),
        },
        "validation": {
            "accuracy": row.get("validation_accuracy_raw"),
            "ci95": row.get("validation_ci95"),
            "n": row.get("validation_items"),
            "objective_adjusted": row.get("validation_objective"),
        },
        "pooled_objective_adjusted_shrunk": row.get("combined_objective"),
        "p_best": row.get("p_best"),
        "p_best_of": row.get("p_best_of"),
    }


def candidate_row(h: str, train_objective: float, rank: int, stats: GraphStats, objective, prior: float) -> dict:
    """One re-checked candidate: what it scored on the items it ran (raw accuracy, 95% Wilson interval)
    and the scores the choice used, which are not accuracies on those items:

    - train_objective: training accuracy adjusted for batch difficulty, shrunk toward the search's mean
      and lowered by SELECTION_Z standard errors (the ranking that picked the candidates);
    - validation_objective: validation accuracy adjusted for slice difficulty (the slices' offsets are
      fitted with the training batches, so they carry the training scores' optimism);
    - combined_objective: training and validation pooled, adjusted, shrunk, lowered (the choice);
    - p_best (added by `finish`): its chance of being the best of the p_best_of top candidates (some may have
      had no validation item in the re-check)
      (`confidence.p_best`): how sure the choice between them is.

    All of them are selection figures: the best of many noisy scores is optimistic. The held-out test
    score is the estimate of the chosen graph's accuracy."""
    val_raw = stats.validation_raw_accuracy
    return {
        "hash": h,
        "train_accuracy_raw": stats.raw_accuracy,
        "train_ci95": list(wilson_interval(stats.raw_correct, stats.n)),
        "train_items": stats.n,
        "validation_accuracy_raw": val_raw,
        "validation_ci95": list(wilson_interval(stats.validation_raw_correct, stats.validation_n))
        if val_raw is not None
        else None,
        "validation_items": stats.validation_n,
        "train_objective": train_objective,
        "validation_objective": stats.validation_objective(objective),
        "combined_objective": stats.combined_objective(objective, prior, SELECTION_Z),
        "rank": rank,
    }


def _test_score(label: str, res: EvalResult, objective: float) -> TestScore:
    return TestScore(
        label=label,
        graph_hash=res.graph_hash,
        accuracy=res.accuracy,
        ci95=(res.ci95[0], res.ci95[1]),
        n=res.n,
        latency_s=res.mean_latency_s,
        dollars=res.cost_usd / max(res.n, 1),
        flops_units=res.flops_units,
        objective=objective,
        simulated=res.simulated,
        simulation=res.simulation,
        calls=res.calls,
        cached_calls=res.cached_calls,
    )


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
    rows = [candidate_row(h, train_obj, rank, stats[h], objective, prior) for rank, (h, train_obj) in enumerate(top)]
    chances = p_best({h: stats[h] for h, _ in top}, prior, objective, cfg.seed)
    for row in rows:  # how sure the choice is: each candidate's chance of being the best of them
        row["p_best"], row["p_best_of"] = chances.get(row["hash"], 0.0), len(chances)
    chosen = max(rows, key=lambda r: (r["combined_objective"], -r["rank"]))
    spec = ctx.graph(chosen["hash"])
    test_items = ctx.split("test")[: cfg.test_items]
    _, res = await ctx.evaluate_full(spec, test_items, iteration, "test", "chosen")
    test = _test_score(spec.name, res, objective.value(res.accuracy, res.mean_latency_s, res.cost_usd / max(res.n, 1)))
    singles: list[TestScore] = []
    runs = {res.graph_hash: res}
    if cfg.compare_singles:
        for model_id in ctx.space.models:
            single = ctx.space.single(model_id)
            _, sres = await ctx.evaluate_full(single, test_items, iteration, "single", "single")
            runs.setdefault(sres.graph_hash, sres)
            singles.append(
                _test_score(
                    model_id, sres, objective.value(sres.accuracy, sres.mean_latency_s, sres.cost_usd / max(sres.n, 1))
                )
            )
    return FinalChoice(
        chosen_hash=chosen["hash"],
        candidates=rows,
        test=test,
        singles=singles,
        per_node=res.per_node,
        test_runs=runs,
        cap_miss=objective.cap_miss(
            test, points(ctx.trace.records), selected=SelectionFigures.of(stats[chosen["hash"]]), singles=singles
        ),
    )
