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

from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.agent_reinforce_base import (
    DEFAULT_STEP,
    PILOT_ITERATION,
    AgentReinforceBase,
    pilot_row,
    runs_left,
    score_pilot,
)
from rolegraph.optimize.choices import from_graph
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.feedback import FeedbackAgent, GraphUpdate, PilotRow, ProposedGraph, proposed_choices
from rolegraph.optimize.pilot import MIN_ENSEMBLE, ensemble, fan_in
from rolegraph.optimize.proposal import Proposal, distinct_samples
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.statistical_agent import StatisticalFeedbackAgent
from rolegraph.optimize.trace import Evaluation

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


class AgentReinforce(AgentReinforceBase):
    name = "agent-reinforce:v1"

    def __init__(
        self,
        agent: FeedbackAgent | None = None,
        *,
        step_size: float = DEFAULT_STEP,
        pilot_batch: int | None = None,
        pilot: bool = True,
    ):
        super().__init__(agent, step_size)
        self.pilot_batch = pilot_batch
        self.use_pilot = pilot

    def _default_agent(self) -> FeedbackAgent:
        return StatisticalFeedbackAgent()

    def _fresh_state(self) -> None:
        super()._fresh_state()
        self.pending: dict | None = None  # the proposed graph for the next iteration (as ProposedGraph dict)

    def _options(self) -> dict[str, Any]:
        return {"pilot_batch": self.pilot_batch, "pilot": self.use_pilot}

    # --- 1. insight-guided initialisation ------------------------------------------------------------
    async def start(self, ctx: SearchContext) -> None:
        if not self.use_pilot:
            return
        scored = await score_pilot(self, ctx, self.pilot_batch)
        if scored is None:
            return  # no evaluations left for a pilot: start from the uniform distribution
        rows, items = scored
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
            rows += [pilot_row(self.space, label, e) for e in evals]
        await self._initial(rows, ctx)

    # --- 2. sample ---------------------------------------------------------------------------------
    def propose(self, iteration: int, count: int, rng: np.random.Generator) -> list[Proposal]:
        out: list[Proposal] = []
        if self.pending is not None:
            got = proposed_choices(
                GraphUpdate(proposed_graph=ProposedGraph.model_validate(self.pending)), self.bound_pg
            )
            if got is not None:
                self._add(out, Proposal(got[1], got[0], "proposed"), count)
        return out + distinct_samples(self.bound_pg, count - len(out), rng, {p.structure for p in out})

    # --- 3./4. feedback and update -----------------------------------------------------------------
    async def observe(self, iteration: int, evaluations: list[Evaluation], ctx: SearchContext) -> None:
        await self._step(iteration, evaluations, ctx)

    def _keep_proposals(self, update: GraphUpdate, ctx: SearchContext) -> None:
        proposed = update.proposed_graph
        self.pending = proposed.model_dump() if proposed is not None else None

    # --- checkpointing -------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"pending": self.pending}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.pending = state.get("pending")
