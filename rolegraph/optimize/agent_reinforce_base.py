"""What the three Agent-REINFORCE variants share (`agent_reinforce_race`, the default; `agent_reinforce`, the
Gaussian-process variant; `agent_reinforce_v1`, the pre-issue-14 agent): the step size, the feedback agent, the
probabilistic graph and the exchange history, how a feedback's update is validated and applied, and the
checkpoint's common fields. Each variant keeps only its pilot, its proposals and its own state.

Why one base: the three had drifted copies of the same update and checkpoint code, so a fix to one (an
invalid update kept as text only, a reused optimizer emptied by `bind`) had to be made three times.

Also the classic pilot the GP and v1 variants share (each model alone, then each model's budget-filling
ensemble, scored before the first iteration and shrunk to the evaluation budget)."""

from __future__ import annotations

from typing import Any

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
    StepContext,
    apply_update,
    validate_update,
)
from rolegraph.optimize.pilot import ensemble
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.proposal import Proposal
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.stage_pilot import staged_pilot_graphs
from rolegraph.optimize.trace import Evaluation, FeedbackRecord

DEFAULT_STEP = 0.5
INIT_STEP = 1.0
PILOT_ITERATION = 0
PILOT_ONLY = "agent-reinforce:pilot-only"
RACE_TOLERANCE = 0.02
"""Racing stops when the rival cannot beat the leader by more than this share of the leader's accuracy."""


class AgentReinforceBase(Optimizer):
    """An Agent-REINFORCE variant: subclasses override `_default_agent`, `_options` (their `config()`
    entries between the step size and the agent), `_keep_proposals` (what of an update's proposals they keep),
    and `_fresh_state`/`_state`/`_load_state` for the state of their own."""

    learn = True
    """False in the pilot-only ablation: the pilot sets the distribution, then it is only sampled."""

    def __init__(self, agent: FeedbackAgent | None, step_size: float):
        super().__init__()
        if not 0 < step_size <= 1:
            raise SearchError(f"the step size must be in (0, 1], got {step_size}")
        self.agent = agent or self._default_agent()
        self.step_size = step_size
        self.pg: ProbabilisticGraph | None = None
        self._fresh_state()

    def _default_agent(self) -> FeedbackAgent:
        """The statistical agent the variant runs with when given none (the LLM agent's fallback too)."""
        raise NotImplementedError

    def _fresh_state(self) -> None:
        """One search's state, emptied by `bind` (a checkpoint restores it after): a reused optimizer's earlier
        search must not steer the next one, or the same seed would no longer give the same best graph."""
        self.history: list[FeedbackRecord] = []

    def bind(self, space: SearchSpace, seed: int) -> None:
        super().bind(space, seed)
        self.pg = ProbabilisticGraph(space)
        self._fresh_state()

    def config(self) -> dict[str, Any]:
        return {"step_size": self.step_size, **self._options(), "agent": self.agent.name}

    def _options(self) -> dict[str, Any]:
        return {}

    def feedback_agent_name(self) -> str | None:
        return self.agent.name if self.learn else None

    def distribution(self) -> ProbabilisticGraph | None:
        return self.pg

    @staticmethod
    def _add(out: list[Proposal], p: Proposal, count: int) -> None:
        """Append `p` while there is room and no isomorphic graph is in `out` already."""
        if len(out) < count and p.structure not in {q.structure for q in out}:
            out.append(p)

    # --- feedback and update -----------------------------------------------------------------------
    async def _initial(self, rows: list[PilotRow], ctx: SearchContext) -> None:
        """The agent reads the pilot's table and sets the first probabilities (at the full initial step)."""
        feedback = await self.agent.initial(
            InitContext(space=self.space, pg=self.bound_pg, pilot=rows, task=ctx.task.name, seed=self.seed)
        )
        self._apply(feedback, INIT_STEP, PILOT_ITERATION, ctx)

    async def _step(
        self, iteration: int, evaluations: list[Evaluation], ctx: SearchContext, evidence: bool = False
    ) -> None:
        """One step of the agent on this iteration's evaluations, applied at the step size."""
        step_ctx = StepContext.of_search(
            ctx,
            space=self.space,
            pg=self.bound_pg,
            iteration=iteration,
            evaluations=evaluations,
            history=self.history,
            seed=self.seed,
            evidence=evidence,
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
        self._keep_proposals(feedback.update, ctx)
        record = feedback.record(iteration)
        self.history = (self.history + [record])[-HISTORY_EXCHANGES:]
        ctx.log_feedback(record)

    def _keep_proposals(self, update: GraphUpdate, ctx: SearchContext) -> None:
        """Keep what the next `propose` scores of the update's proposals (after the update was applied)."""
        raise NotImplementedError

    # --- checkpointing -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"pg": self.bound_pg.to_dict(), **self._state(), "history": [h.model_dump() for h in self.history]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pg = ProbabilisticGraph.from_dict(self.space, state["pg"])
        self._load_state(state)
        self.history = [FeedbackRecord.model_validate(h) for h in state.get("history", [])]

    def _state(self) -> dict[str, Any]:
        return {}

    def _load_state(self, state: dict[str, Any]) -> None:
        pass


def pilot_row(space: SearchSpace, label: str, e: Evaluation) -> PilotRow:
    """One pilot graph's row of the table the feedback agent reads."""
    return PilotRow(
        label=label,
        graph=e.graph,
        accuracy=e.record.accuracy,
        latency_s=e.record.latency_s,
        dollars=e.record.dollars,
        budget_cost=space.cost(e.graph),
        objective=e.objective,
        n=e.record.n,
    )


# --- the classic pilot (the GP and v1 variants; the default's is `pilot.anytime_pilot`) -------------------
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


async def score_pilot(
    optimizer: AgentReinforceBase, ctx: SearchContext, pilot_batch: int | None
) -> tuple[list[PilotRow], list] | None:
    """Score the classic pilot on the first batch (shrunk to the budget): (rows, the items it used), or None
    when the budget leaves no evaluations for it (the search starts from the uniform distribution)."""
    space = optimizer.space
    graphs = pilot_graphs(space)
    items = ctx.batch(PILOT_ITERATION, pilot_batch)
    graphs, items = pilot_within_budget(graphs, items, ctx)
    if not graphs:
        return None
    proposals = [Proposal(g, from_graph(space, g), "pilot", {"label": label}) for label, g in graphs]
    evals = await ctx.evaluate(proposals, items, PILOT_ITERATION, "pilot")
    return [pilot_row(space, label, e) for (label, _), e in zip(graphs, evals)], items
