"""Agent-REINFORCE as it was before issue 14 (`agent-reinforce:v1`, no longer the default: `agent_reinforce_race`
is): larger-first model ranking, the mixed pair in the pilot, mutation proposals; kept selectable so the
generalization benchmark can show what the new default changed (BENCHMARKS.md, Generalization).
Sample -> evaluate -> feedback -> update, with an insight-guided start.

1. Pilot (insight 1): each candidate model alone and, per model, the equal-budget ensemble that
   fills the budget (k solvers feeding a fuser of that model), on a small batch; then a mixed
   ensemble of the two best models (`mixed_ensemble`). The feedback agent reads that table and
   sets the initial model/presence probabilities.
2. Each iteration: K graphs sampled (one of them the agent's proposed graph, when it made one),
   scored on a batch of training items.
3. The feedback agent writes a textual gradient and a structured update, validated first.
4. The update moves the probabilities by the step size.
The loop keeps the best graph and re-checks the top candidates (see loop.py), not the last one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rolegraph.errors import SearchError
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.agent_reinforce import (  # the pilot both agents share
    PILOT_ITERATION,
    pilot_graphs,
    pilot_within_budget,
    runs_left,
)
from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.choices import from_graph
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.feedback import (
    HISTORY_EXCHANGES,
    Feedback,
    FeedbackAgent,
    GraphUpdate,
    InitContext,
    PilotRow,
    ProposedGraph,
    StepContext,
    apply_update,
    proposed_choices,
    validate_update,
)
from rolegraph.optimize.pilot import MIN_ENSEMBLE, ensemble, fan_in
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.proposal import Proposal, distinct_samples
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.statistical_agent_v1 import StatisticalFeedbackAgent
from rolegraph.optimize.trace import Evaluation, FeedbackRecord

DEFAULT_STEP = 0.5
INIT_STEP = 1.0
RANK_Z = 2.0  # standard errors by which a smaller model's pilot accuracy must beat a larger one's
MIN_RANK_SE = 0.05  # floor of that standard error (two models both at 0% or 100% are not "clearly" apart)


def mixed_ensemble(space: SearchSpace, ranked: list[str]) -> GraphSpec | None:
    """The pilot's second stage: a solver of each of the two best models (ranked by the pilot), read by
    the best-ranked fuser that fits, then more solvers of the best model while they fit.

    Why: when the best model's own ensemble does not fit the budget (an 8B fuser reading two 8B
    solvers costs more than 18 units), the best graphs mix sizes (the paper's mixes), and nothing in
    the first stage resembles them; the pilot adds it only then. None when fewer than two models
    were ranked or nothing fits.
    """
    if len(ranked) < 2 or space.worker_slots < MIN_ENSEMBLE:
        return None

    def build(solvers: list[str], fuser_model: str) -> GraphSpec:
        return fan_in(space, solvers, fuser_model, "mixed-" + "-".join(m.split("/")[-1] for m in solvers))

    solvers = ranked[:MIN_ENSEMBLE]
    best = next((g for g in (build(solvers, m) for m in ranked) if space.fits(g)), None)
    while best is not None and len(solvers) < space.worker_slots:
        wider = build([*solvers, ranked[0]], best.nodes[-1].model)
        if not space.fits(wider):
            break
        solvers, best = [*solvers, ranked[0]], wider
    return best


def rank_models(space: SearchSpace, rows: list[PilotRow]) -> list[str]:
    """The models of the pilot's single-model rows, best first: larger first (the prior that scaling
    gives), a smaller model moving ahead only when its pilot accuracy is higher by more than
    `RANK_Z` standard errors of the difference. A 16-item pilot separates models only by ~30 points,
    so sizes order a family and the pilot orders families of similar size."""
    singles = {r.graph.nodes[0].model: r for r in rows if len(r.graph.nodes) == 1}
    order = sorted(singles, key=lambda m: -(space.pool.get(m).params_b or 0.0))

    def clearly_better(a: PilotRow, b: PilotRow) -> bool:
        se = math.sqrt(a.accuracy * (1 - a.accuracy) / max(a.n, 1) + b.accuracy * (1 - b.accuracy) / max(b.n, 1))
        return a.accuracy - b.accuracy > RANK_Z * max(se, MIN_RANK_SE)

    for i in range(1, len(order)):  # insertion sort: each model passes the larger ones it clearly beats
        j = i
        while j > 0 and clearly_better(singles[order[j]], singles[order[j - 1]]):
            order[j - 1], order[j] = order[j], order[j - 1]
            j -= 1
    return order


class AgentReinforce(Optimizer):
    name = "agent-reinforce:v1"

    def __init__(
        self,
        agent: FeedbackAgent | None = None,
        *,
        step_size: float = DEFAULT_STEP,
        pilot_batch: int | None = None,
        pilot: bool = True,
    ):
        super().__init__()
        if not 0 < step_size <= 1:
            raise SearchError(f"the step size must be in (0, 1], got {step_size}")
        self.agent = agent or StatisticalFeedbackAgent()
        self.step_size = step_size
        self.pilot_batch = pilot_batch
        self.use_pilot = pilot
        self.pg: ProbabilisticGraph | None = None
        self._fresh_state()

    def _fresh_state(self) -> None:
        """One search's state, emptied by `bind` (a checkpoint restores it after): a reused optimizer's earlier
        search must not steer the next one, or the same seed would no longer give the same best graph."""
        self.pending: dict | None = None  # the proposed graph for the next iteration (as ProposedGraph dict)
        self.history: list[FeedbackRecord] = []

    def bind(self, space: SearchSpace, seed: int) -> None:
        super().bind(space, seed)
        self.pg = ProbabilisticGraph(space)
        self._fresh_state()

    def config(self) -> dict[str, Any]:
        return {
            "step_size": self.step_size,
            "pilot_batch": self.pilot_batch,
            "pilot": self.use_pilot,
            "agent": self.agent.name,
        }

    def feedback_agent_name(self) -> str | None:
        return self.agent.name

    def distribution(self) -> ProbabilisticGraph | None:
        return self.pg

    # --- 1. insight-guided initialisation ------------------------------------------------------------
    async def start(self, ctx: SearchContext) -> None:
        if not self.use_pilot:
            return
        graphs = pilot_graphs(self.space)
        items = ctx.batch(PILOT_ITERATION, self.pilot_batch)
        graphs, items = pilot_within_budget(graphs, items, ctx)
        if not graphs:
            return  # no evaluations left for a pilot: start from the uniform distribution
        proposals = [Proposal(g, from_graph(self.space, g), "pilot", {"label": label}) for label, g in graphs]
        evals = await ctx.evaluate(proposals, items, PILOT_ITERATION, "pilot")
        rows = self._rows(graphs, evals)
        ranked = rank_models(self.space, rows)
        mixed = mixed_ensemble(self.space, ranked) if ranked and ensemble(self.space, ranked[0]) is None else None
        if mixed is not None and runs_left(ctx) >= len(items):
            label = "mixed " + " + ".join(n.model.split("/")[-1] for n in mixed.nodes[:-1]) + " -> fuser"
            evals = await ctx.evaluate(
                [Proposal(mixed, from_graph(self.space, mixed), "pilot", {"label": label})],
                items,
                PILOT_ITERATION,
                "pilot",
            )
            rows += self._rows([(label, mixed)], evals)
        feedback = await self.agent.initial(
            InitContext(space=self.space, pg=self.bound_pg, pilot=rows, task=ctx.task.name, seed=self.seed)
        )
        self._apply(feedback, INIT_STEP, PILOT_ITERATION, ctx)

    def _rows(self, graphs: list[tuple[str, GraphSpec]], evals: list[Evaluation]) -> list[PilotRow]:
        return [
            PilotRow(
                label=label,
                graph=e.graph,
                accuracy=e.record.accuracy,
                latency_s=e.record.latency_s,
                dollars=e.record.dollars,
                budget_cost=self.space.cost(e.graph),
                objective=e.objective,
                n=e.record.n,
            )
            for (label, _), e in zip(graphs, evals)
        ]

    # --- 2. sample ---------------------------------------------------------------------------------
    def propose(self, iteration: int, count: int, rng: np.random.Generator) -> list[Proposal]:
        out: list[Proposal] = []
        if self.pending is not None and count > 0:
            got = proposed_choices(
                GraphUpdate(proposed_graph=ProposedGraph.model_validate(self.pending)), self.bound_pg
            )
            if got is not None:
                out.append(Proposal(got[1], got[0], "proposed"))
        return out + distinct_samples(self.bound_pg, count - len(out), rng, {p.structure for p in out})

    # --- 3./4. feedback and update -----------------------------------------------------------------
    async def observe(self, iteration: int, evaluations: list[Evaluation], ctx: SearchContext) -> None:
        step_ctx = StepContext.of_search(
            ctx,
            space=self.space,
            pg=self.bound_pg,
            iteration=iteration,
            evaluations=evaluations,
            history=self.history,
            seed=self.seed,
        )
        feedback = await self.agent.step(step_ctx)
        self._apply(feedback, self.step_size, iteration, ctx)

    def _apply(self, feedback: Feedback, step: float, iteration: int, ctx: SearchContext) -> None:
        problems = validate_update(feedback.update, self.bound_pg)
        if problems:  # an agent's own validation should have caught this: keep the textual part only
            feedback = feedback.model_copy(
                update={
                    "update": GraphUpdate(),
                    "fallback": f"update rejected: {problems[0]}",
                    "fallback_reason": "invalid",
                }
            )
        self.pg = apply_update(self.bound_pg, feedback.update, step)
        proposed = feedback.update.proposed_graph
        self.pending = proposed.model_dump() if proposed is not None else None
        record = feedback.record(iteration)
        self.history = (self.history + [record])[-HISTORY_EXCHANGES:]
        ctx.log_feedback(record)

    # --- checkpointing -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "pg": self.bound_pg.to_dict(),
            "pending": self.pending,
            "history": [h.model_dump() for h in self.history],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pg = ProbabilisticGraph.from_dict(self.space, state["pg"])
        self.pending = state.get("pending")
        self.history = [FeedbackRecord.model_validate(h) for h in state.get("history", [])]
