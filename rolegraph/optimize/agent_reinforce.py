"""Agent-REINFORCE with a Gaussian-process belief (`agent-reinforce:gp`, not the default): sample -> evaluate ->
feedback -> update, with a pilot and racing.

1. Pilot (insight 1): each candidate model alone and, per model, the equal-budget ensemble that fills
   the budget (k solvers feeding a fuser of that model), on a small batch. The feedback agent reads
   that table and sets the initial probabilities and its first proposal from what the pilot measured
   (no ranking of models by size, no fixed mixed ensemble: both held only on the calibrated world).
2. Each iteration: K graphs: the agent's proposed graph, the racing pair, then samples of the
   probabilistic graph, all scored on the same batch of training items.
3. The feedback agent writes a textual gradient and a structured update, validated first.
4. The update moves the probabilities by the step size.
Racing (LUCB): the leader (best lower bound, the graph the search would choose) and its strongest
rival (best upper bound) are scored again while the rival's upper bound is above the leader's lower
bound, so a graph that looks best on one batch is confirmed or dropped within a few iterations,
and the choice settles on the optimum sooner and stays there.
The loop keeps the best graph and re-checks the top candidates (see loop.py), not the last one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.agent_reinforce_base import (
    DEFAULT_STEP,
    PILOT_ONLY,
    RACE_TOLERANCE,
    AgentReinforceBase,
    score_pilot,
)
from rolegraph.optimize.agent_reinforce_base import pilot_graphs as pilot_graphs  # re-exported: the tests read it
from rolegraph.optimize.choices import from_graph
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.feedback import FeedbackAgent, GraphUpdate, ProposedGraph, proposed_choices
from rolegraph.optimize.pilot import ensemble as ensemble  # re-exported: the tests import it from here
from rolegraph.optimize.pilot import fan_in as fan_in
from rolegraph.optimize.proposal import Proposal, distinct_samples
from rolegraph.optimize.recheck import bounds
from rolegraph.optimize.statistical_agent_gp import StatisticalFeedbackAgent
from rolegraph.optimize.trace import Evaluation, prior_accuracy, ranked

GP_NAME = "agent-reinforce:gp"
"""Selectable by name; not the default (`agent_reinforce_race` is: this one was not at least as good on held-out
sim worlds, BENCHMARKS.md, Generalization)."""


class AgentReinforce(AgentReinforceBase):
    name = GP_NAME

    def __init__(
        self,
        agent: FeedbackAgent | None = None,
        *,
        step_size: float = DEFAULT_STEP,
        pilot_batch: int | None = None,
        pilot: bool = True,
        learn: bool = True,
        race: bool = True,
    ):
        super().__init__(agent, step_size)
        self.pilot_batch = pilot_batch
        self.use_pilot = pilot
        self.learn = learn
        self.race = race
        if not learn:  # the ablation: the pilot sets the distribution, then it is only sampled
            self.name = PILOT_ONLY

    def _default_agent(self) -> FeedbackAgent:
        return StatisticalFeedbackAgent()

    def _fresh_state(self) -> None:
        super()._fresh_state()
        self.pending: list[dict] = []  # the proposed graphs for the next iteration (as ProposedGraph dicts)
        self.racing: list[dict] = []  # the racing pair for the next iteration (as GraphSpec dicts)

    def _options(self) -> dict[str, Any]:
        return {"pilot_batch": self.pilot_batch, "pilot": self.use_pilot, "learn": self.learn, "race": self.race}

    # --- 1. the pilot ----------------------------------------------------------------------------------
    async def start(self, ctx: SearchContext) -> None:
        if not self.use_pilot:
            return
        scored = await score_pilot(self, ctx, self.pilot_batch)
        if scored is None:
            return  # no evaluations left for a pilot: start from the uniform distribution
        await self._initial(scored[0], ctx)
        if not self.learn:
            self.pending = []

    # --- 2. sample ---------------------------------------------------------------------------------
    def propose(self, iteration: int, count: int, rng: np.random.Generator) -> list[Proposal]:
        out: list[Proposal] = []
        for data in self.pending:
            got = proposed_choices(GraphUpdate(proposed_graph=ProposedGraph.model_validate(data)), self.bound_pg)
            if got is not None:
                self._add(out, Proposal(got[1], got[0], "proposed"), count)
        for data in self.racing:
            spec = GraphSpec.model_validate(data)
            self._add(out, Proposal(spec, from_graph(self.space, spec), "racing"), count)
        return out + distinct_samples(self.bound_pg, count - len(out), rng, {p.structure for p in out})

    # --- 3./4. feedback and update -----------------------------------------------------------------
    async def observe(self, iteration: int, evaluations: list[Evaluation], ctx: SearchContext) -> None:
        self.racing = [g.model_dump(mode="json") for g in _race(ctx)] if self.race else []
        if self.learn:
            await self._step(iteration, evaluations, ctx, evidence=True)

    def _keep_proposals(self, update: GraphUpdate, ctx: SearchContext) -> None:
        first = update.proposed_graph
        self.pending = [p.model_dump() for p in ([first] if first else []) + update.more_proposals]

    # --- checkpointing -------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"pending": self.pending, "racing": self.racing}

    def _load_state(self, state: dict[str, Any]) -> None:
        pending = state.get("pending") or []
        self.pending = pending if isinstance(pending, list) else [pending]
        self.racing = list(state.get("racing", []))


RACE_MODE = "leader"
RIVALS = 2
RECHECK_ITEMS = 32


def _race(ctx: SearchContext) -> list[GraphSpec]:
    if RACE_MODE == "pair":
        return racing_pair(ctx)
    if RACE_MODE == "leader":
        board = ctx.leaderboard()
        if not board:
            return []
        rivals = [n for _, _, n in board[1 : 1 + RIVALS]]
        return [board[0][0]] if board[0][2] < max([RECHECK_ITEMS, *rivals]) else []
    return []


def racing_pair(ctx: SearchContext, tolerance: float | None = None) -> list[GraphSpec]:
    """The leader (best lower bound: the graph the search would choose) and its strongest rival (best
    upper bound of the others) while the rival could still beat the leader by more than `tolerance`
    (a share of the leader's accuracy, `RACE_TOLERANCE`); else nothing.

    Why the tolerance: two graphs within a point or two of each other take thousands of items to tell
    apart, and racing them hands the lead to whichever has the luckier batches; a rival that may be
    clearly better is what racing is for."""
    tolerance = RACE_TOLERANCE if tolerance is None else tolerance
    stats = ctx.stats()
    order = [h for h, _ in ranked(ctx.trace.records, ctx.space.objective, stats=stats)]
    if len(order) < 2:
        return []
    prior = prior_accuracy(ctx.trace.records)
    rows = {h: bounds(stats[h], prior) for h in order}
    leader = order[0]
    rival = max(order[1:], key=lambda h: (rows[h][1], -order.index(h)))
    margin = tolerance * stats[leader].combined_accuracy(prior)
    if rows[rival][1] <= rows[leader][0] + margin:
        return []
    return [ctx.graph(leader), ctx.graph(rival)]
