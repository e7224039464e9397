"""The end of a search: re-check the top candidates, choose one, and score it on held-out test items."""

from __future__ import annotations

from pydantic import BaseModel, Field

from rolegraph.errors import SearchError
from rolegraph.evaluate.result import EvalResult, NodeStats
from rolegraph.models.provenance import Simulation
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.recheck import recheck
from rolegraph.optimize.trace import SELECTION_Z, pooled, prior_accuracy, ranked


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
        simulation=res.simulation,
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
