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

from rolegraph.errors import SearchError
from rolegraph.graphs.spec import GraphSpec
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
from rolegraph.optimize.pilot import ensemble
from rolegraph.optimize.pilot import fan_in as fan_in  # re-exported: the tests import it from here
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.proposal import Proposal, distinct_samples
from rolegraph.optimize.recheck import bounds
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.stage_pilot import staged_pilot_graphs
from rolegraph.optimize.statistical_agent import StatisticalFeedbackAgent
from rolegraph.optimize.trace import Evaluation, FeedbackRecord, prior_accuracy, ranked

DEFAULT_STEP = 0.5
INIT_STEP = 1.0
PILOT_ITERATION = 0
PILOT_ONLY = "agent-reinforce:pilot-only"
RACE_TOLERANCE = 0.02
"""Racing stops when the rival cannot beat the leader by more than this share of the leader's accuracy."""


def pilot_graphs(space: SearchSpace) -> list[tuple[str, GraphSpec]]:
    """(label, graph): each model alone, then each model's budget-filling ensemble (a staged space:
    each model as the whole pipeline, `stage_pilot`)."""
    if space.stages:
        return staged_pilot_graphs(space)
    out = [(f"single {m.split('/')[-1]}", space.single(m)) for m in space.models]
    for m in space.models:
        spec = ensemble(space, m)
        if spec is not None:
            k = len(spec.nodes) - 1
            out.append((f"{k} x {m.split('/')[-1]} -> {spec.node(spec.output_id()).role}", spec))
    return out


def runs_left(ctx: SearchContext) -> float:
    """Item runs left before the final re-check's reserve (unbounded without `max_evaluations`)."""
    cfg = ctx.config
    return float("inf") if cfg.max_evaluations is None else cfg.max_evaluations - ctx.spent - cfg.reserve


def pilot_within_budget(graphs: list, items: list, ctx: SearchContext) -> tuple[list, list]:
    """Shrink the pilot to what an evaluation budget allows after the final re-check's reserve:
    fewer items per pilot graph first (at least one), then fewer graphs (singles come first)."""
    left = max(0, runs_left(ctx))
    if left >= len(graphs) * len(items):
        return graphs, items
    per_graph = int(left) // max(len(graphs), 1)
    if per_graph >= 1:
        return graphs, items[:per_graph]
    return graphs[: int(left)], items[:1]


GP_NAME = "agent-reinforce:gp"
"""Selectable by name; not the default (`agent_reinforce_v1` is: this one was not at least as good on held-out
sim worlds, BENCHMARKS.md, Generalization)."""


class AgentReinforce(Optimizer):
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
        super().__init__()
        if not 0 < step_size <= 1:
            raise SearchError(f"the step size must be in (0, 1], got {step_size}")
        self.agent = agent or StatisticalFeedbackAgent()
        self.step_size = step_size
        self.pilot_batch = pilot_batch
        self.use_pilot = pilot
        self.learn = learn
        self.race = race
        if not learn:  # the ablation: the pilot sets the distribution, then it is only sampled
            self.name = PILOT_ONLY
        self.pg: ProbabilisticGraph | None = None
        self._fresh_state()

    def _fresh_state(self) -> None:
        """One search's state, emptied by `bind` (a checkpoint restores it after): a reused optimizer's earlier
        search must not steer the next one, or the same seed would no longer give the same best graph."""
        self.pending: list[dict] = []  # the proposed graphs for the next iteration (as ProposedGraph dicts)
        self.racing: list[dict] = []  # the racing pair for the next iteration (as GraphSpec dicts)
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
            "learn": self.learn,
            "race": self.race,
            "agent": self.agent.name,
        }

    def feedback_agent_name(self) -> str | None:
        return self.agent.name if self.learn else None

    def distribution(self) -> ProbabilisticGraph | None:
        return self.pg

    # --- 1. the pilot ----------------------------------------------------------------------------------
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
        feedback = await self.agent.initial(
            InitContext(
                space=self.space, pg=self.bound_pg, pilot=self._rows(graphs, evals), task=ctx.task.name, seed=self.seed
            )
        )
        self._apply(feedback, INIT_STEP, PILOT_ITERATION, ctx)
        if not self.learn:
            self.pending = []

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
        for data in self.pending:
            got = proposed_choices(GraphUpdate(proposed_graph=ProposedGraph.model_validate(data)), self.bound_pg)
            if got is not None:
                self._add(out, Proposal(got[1], got[0], "proposed"), count)
        for data in self.racing:
            spec = GraphSpec.model_validate(data)
            self._add(out, Proposal(spec, from_graph(self.space, spec), "racing"), count)
        return out + distinct_samples(self.bound_pg, count - len(out), rng, {p.structure for p in out})

    @staticmethod
    def _add(out: list[Proposal], p: Proposal, count: int) -> None:
        if len(out) < count and p.structure not in {q.structure for q in out}:
            out.append(p)

    # --- 3./4. feedback and update -----------------------------------------------------------------
    async def observe(self, iteration: int, evaluations: list[Evaluation], ctx: SearchContext) -> None:
        self.racing = [g.model_dump(mode="json") for g in _race(ctx)] if self.race else []
        if not self.learn:
            return
        step_ctx = StepContext.of_search(
            ctx,
            space=self.space,
            pg=self.bound_pg,
            iteration=iteration,
            evaluations=evaluations,
            history=self.history,
            seed=self.seed,
            evidence=True,
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
        first = feedback.update.proposed_graph
        self.pending = [p.model_dump() for p in ([first] if first else []) + feedback.update.more_proposals]
        record = feedback.record(iteration)
        self.history = (self.history + [record])[-HISTORY_EXCHANGES:]
        ctx.log_feedback(record)

    # --- checkpointing -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "pg": self.bound_pg.to_dict(),
            "pending": self.pending,
            "racing": self.racing,
            "history": [h.model_dump() for h in self.history],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pg = ProbabilisticGraph.from_dict(self.space, state["pg"])
        pending = state.get("pending") or []
        self.pending = pending if isinstance(pending, list) else [pending]
        self.racing = list(state.get("racing", []))
        self.history = [FeedbackRecord.model_validate(h) for h in state.get("history", [])]


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
