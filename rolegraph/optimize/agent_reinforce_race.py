"""Agent-REINFORCE, the default (`agent-reinforce`): sample -> evaluate -> feedback -> update, with an
anytime pilot and racing between the graphs that can still be the best.

1. Pilot (insight 1), as the first iteration(s) of the loop rather than a block before it (`pilot.py`):
   per model, the budget-filling ensemble of that model (k solvers feeding a fuser of it), or when no
   ensemble of it fits its answer refined by a fuser of itself, or the model alone; and a mix of every
   model. Each is scored like any sampled graph, so the search has a choice after the first iteration
   (the old pilot scored every single model too, which the ensembles of the same model nearly always
   beat). Then a second stage: mixes of the two models whose pilot graphs scored best. When the
   pilot's graphs are all scored the feedback agent reads them and sets the initial probabilities
   (no ranking of models by size, no fixed mixed pair: both held only on world 0).
2. Each iteration: K graphs: the racing pair, the agent's proposed graph, then samples of the
   probabilistic graph not scored before (new evidence, not repeats of old), all on the same batch.
3. The feedback agent writes a textual gradient and a structured update, validated first.
4. The update moves the probabilities by the step size.

5. Identification: once IDENTIFY_FROM of the budget is spent, every slot goes to the few graphs that may
   still be the best (posterior chance of it >= MIN_WIN_SHARE) and none to new graphs. Why: the best
   graphs are near-ties that only hundreds of paired items separate, and a graph seen once is more often
   a lucky draw than a better graph (tuned on worlds 4-6 and checked on held-out worlds, BENCHMARKS.md).

Racing (top-two Thompson sampling, `thompson`): the graphs scored again, on the same batch, are drawn
by their chance of being the best, so items go to the leader and the rivals that could still beat it.
Why: the landscapes are flat at the top (the best graphs are a point or two apart, a 16-item batch has
a standard error near 12 points), so a graph first seen on one lucky batch is the commonest wrong
answer; and a leader that has many items is hard to displace by a better graph seen once.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from rolegraph.errors import SearchError
from rolegraph.graphs.isomorphism import Shape
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.agent_reinforce_base import (
    DEFAULT_STEP,
    PILOT_ONLY,
    RACE_TOLERANCE,
    AgentReinforceBase,
    pilot_row,
)
from rolegraph.optimize.choices import from_graph
from rolegraph.optimize.confidence import p_best, posterior
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.feedback import FeedbackAgent, GraphUpdate, PilotRow, ProposedGraph, proposed_choices
from rolegraph.optimize.ignored_options import refuse_or_warn_pilot_batch
from rolegraph.optimize.pilot import anytime_pilot, pair_mixes
from rolegraph.optimize.proposal import Proposal, distinct_samples
from rolegraph.optimize.recheck import bounds
from rolegraph.optimize.residual import noise_scale
from rolegraph.optimize.statistical_agent import StatisticalFeedbackAgent
from rolegraph.optimize.trace import Evaluation, GraphStats, prior_accuracy, ranked

NAME = "agent-reinforce"
RACE_SLOTS = 2
"""Graphs per iteration given to racing at most (the rest go to the agent's proposal and to samples)."""
THOMPSON_DRAWS = 40
RACE_STREAM = 11  # the random stream of racing draws (the loop uses 1 and 2, mutations 7)
IDENTIFY_STREAM = 12
IDENTIFY_FROM = 0.5
"""Share of the evaluation budget (or of the iterations) after which the search only identifies: every slot
goes to the graphs that may still be the best, none to new graphs (tuned on worlds 4-6, BENCHMARKS.md)."""
IDENTIFY_DRAWS = 400
IDENTIFY_SLOTS = 4
"""Graphs scored per iteration of the identification phase at most, highest chance of being the best first."""
MIN_WIN_SHARE = 0.01
"""A graph's posterior chance of being the best below which identification spends nothing on it."""


def open_race(ctx: SearchContext, tolerance: float = RACE_TOLERANCE) -> tuple[str | None, list[str]]:
    """(leader, rivals): the leader (best lower bound: the graph the search would choose) and, best upper
    bound first, every other graph whose upper bound is above the leader's lower bound by more than
    `tolerance` of the leader's accuracy: the graphs that can still be the best."""
    stats = ctx.stats()
    order = [h for h, _ in ranked(ctx.trace.records, ctx.space.objective, stats=stats)]
    if not order:
        return None, []
    prior = prior_accuracy(ctx.trace.records)
    rows = {h: bounds(stats[h], prior) for h in order}
    leader = order[0]
    margin = tolerance * stats[leader].combined_accuracy(prior)
    rivals = [h for h in order[1:] if rows[h][1] > rows[leader][0] + margin]
    return leader, sorted(rivals, key=lambda h: (-rows[h][1], order.index(h)))


def _race_evidence(ctx: SearchContext, paired: bool) -> tuple[dict[str, GraphStats], float, float]:
    """What racing and identification draw from: the graphs with training items, the shrinkage target and
    the noise scale of their errors (the paired residual noise, or 1: binomial)."""
    scored = {h: st for h, st in ctx.stats().items() if st.n > 0}
    return scored, prior_accuracy(ctx.trace.records), noise_scale(ctx.trace.records) if paired else 1.0


def thompson(
    ctx: SearchContext, rng: np.random.Generator, slots: int = RACE_SLOTS, paired: bool = True
) -> list[GraphSpec]:
    """Top-two Thompson sampling over every graph scored: each draw takes one plausible accuracy per graph
    (its shrunk mean plus a normal error of its standard error) and picks the best; the first `slots`
    distinct picks of up to `THOMPSON_DRAWS` draws are raced. A graph is raced about as often as it may
    be the best; none when every draw picks the same graph (the race is settled).

    `paired`: the standard errors are scaled by `residual.noise_scale`, the noise left between graphs
    scored on the same batches (scores are batch-adjusted, so the binomial error overstates it): the race
    settles sooner and spends its items on the graphs that can still be the best."""
    scored, prior, scale = _race_evidence(ctx, paired)
    hashes = list(scored)
    if len(hashes) < 2:
        return []
    post = posterior(scored, prior, scale)
    picked: list[str] = []
    for _ in range(THOMPSON_DRAWS):
        h = hashes[int(np.argmax(rng.normal(post.mean, post.se)))]
        if h not in picked:
            picked.append(h)
            if len(picked) == slots:
                break
    return [ctx.graph(h) for h in picked] if len(picked) > 1 else []


def identification_set(ctx: SearchContext, rng: np.random.Generator, paired: bool = True) -> list[str]:
    """The graphs that may still be the best (posterior chance >= MIN_WIN_SHARE), most likely first."""
    scored, prior, scale = _race_evidence(ctx, paired)
    shares = p_best(scored, prior, ctx.space.objective, rng, draws=IDENTIFY_DRAWS, scale=scale)
    ranked_shares = sorted(shares.items(), key=lambda kv: -kv[1])
    return [h for h, w in ranked_shares if w >= MIN_WIN_SHARE][:IDENTIFY_SLOTS]


def identifying(ctx: SearchContext, share: float | None, iteration: int) -> bool:
    """Whether `share` of the search's evaluation budget (else of its iterations) is spent."""
    cfg = ctx.config
    if share is None:
        return False
    if cfg.max_evaluations:
        return ctx.spent >= share * cfg.max_evaluations
    return bool(cfg.iterations) and iteration >= share * (cfg.iterations or 0)


def can_still_win(ctx: SearchContext, spec: GraphSpec) -> bool:
    """False for a graph already scored whose upper bound is below the leader's lower bound (by the
    racing margin): proposing it again spends items on a settled question."""
    h = ctx.canonical_hash(spec)
    leader, rivals = open_race(ctx)
    return h not in ctx.stats() or h == leader or h in rivals


class AgentReinforce(AgentReinforceBase):
    name = NAME

    def __init__(
        self,
        agent: FeedbackAgent | None = None,
        *,
        step_size: float = DEFAULT_STEP,
        pilot_batch: int | None = None,
        pilot: bool = True,
        learn: bool = True,
        race: bool = True,
        paired: bool = True,
        identify_from: float | None = IDENTIFY_FROM,
    ):
        super().__init__(agent, step_size)
        refuse_or_warn_pilot_batch(pilot_batch)
        self.use_pilot = pilot
        self.learn = learn
        self.race = race
        self.paired = paired
        if identify_from is not None and not 0 <= identify_from <= 1:
            raise SearchError(f"identify_from is a share of the budget in [0, 1], got {identify_from}")
        self.identify_from = identify_from if race else None
        if not learn:  # the ablation: the pilot sets the distribution, then it is only sampled
            self.name = PILOT_ONLY

    def _default_agent(self) -> FeedbackAgent:
        return StatisticalFeedbackAgent()

    def _fresh_state(self) -> None:
        super()._fresh_state()
        self.queue: list[dict] = []  # pilot graphs not scored yet: {"label", "graph"}
        self.mixed = False  # whether the pilot's second stage (the mixes of its best two models) is queued
        self.rows: list[dict] = []  # pilot rows scored so far (PilotRow dicts)
        self.pending: dict | None = None  # the agent's proposed graph for the next iteration
        self.racing: list[dict] = []  # the racing pair for the next iteration (GraphSpec dicts)
        self.scored: list[dict] = []  # every graph scored so far (GraphSpec dicts): samples look elsewhere
        self.identify: list[dict] = []  # in the identification phase: the graphs to score next (GraphSpec dicts)

    def _options(self) -> dict[str, Any]:
        return {
            "pilot": self.use_pilot,
            "learn": self.learn,
            "race": self.race,
            "paired": self.paired,
            "identify_from": self.identify_from,
        }

    # --- 1. the pilot: queued, scored by the loop as its first iterations ------------------------------
    async def start(self, ctx: SearchContext) -> None:
        if self.use_pilot:
            self.queue = [
                {"label": label, "graph": g.model_dump(mode="json")} for label, g in anytime_pilot(self.space)
            ]

    # --- 2. sample ---------------------------------------------------------------------------------
    def propose(self, iteration: int, count: int, rng: np.random.Generator) -> list[Proposal]:
        out: list[Proposal] = []
        for entry in self.queue[:count]:
            spec = GraphSpec.model_validate(entry["graph"])
            self._add(out, Proposal(spec, from_graph(self.space, spec), "pilot", {"label": entry["label"]}), count)
        if out:  # the pilot's last graphs share their iteration with samples of the (uniform) distribution
            return out + distinct_samples(self.bound_pg, count - len(out), rng, {p.structure for p in out})
        for data in self.identify:  # the identification phase: only the graphs that may still be the best
            spec = GraphSpec.model_validate(data)
            self._add(out, Proposal(spec, from_graph(self.space, spec), "racing"), count)
        if out:
            return out
        for data in self.racing:
            spec = GraphSpec.model_validate(data)
            self._add(out, Proposal(spec, from_graph(self.space, spec), "racing"), count)
        if self.pending is not None:
            got = proposed_choices(
                GraphUpdate(proposed_graph=ProposedGraph.model_validate(self.pending)), self.bound_pg
            )
            if got is not None:
                self._add(out, Proposal(got[1], got[0], "proposed"), count)
        taken = {p.structure for p in out}
        fresh = distinct_samples(
            self.bound_pg, count - len(out), rng, taken | {Shape(GraphSpec.model_validate(g)) for g in self.scored}
        )
        out += fresh
        if len(out) < count:  # the distribution has little new left: repeats are still evidence
            out += distinct_samples(self.bound_pg, count - len(out), rng, taken | {p.structure for p in fresh})
        return out

    # --- 3./4. feedback and update -----------------------------------------------------------------
    async def observe(self, iteration: int, evaluations: list[Evaluation], ctx: SearchContext) -> None:
        known = {Shape(GraphSpec.model_validate(g)) for g in self.scored}
        for e in evaluations:
            if Shape(e.graph) not in known:
                known.add(Shape(e.graph))
                self.scored.append(e.graph.model_dump(mode="json"))
        self.racing = [g.model_dump(mode="json") for g in self._race(ctx, iteration)] if not self.queue else []
        self.identify = []
        if not self.queue and identifying(ctx, self.identify_from, iteration):
            rng = np.random.default_rng([self.seed, iteration, IDENTIFY_STREAM])
            self.identify = [ctx.graph(h).model_dump(mode="json") for h in identification_set(ctx, rng, self.paired)]
        if self.queue:
            self._pilot_scored(evaluations)
            if self.queue:
                return
            rows = [PilotRow(**{**r, "graph": GraphSpec.model_validate(r["graph"])}) for r in self.rows]
            await self._initial(rows, ctx)
            if not self.learn:
                self.pending = None
            self.racing = [g.model_dump(mode="json") for g in self._race(ctx, iteration)]
            return
        if self.learn:
            await self._step(iteration, evaluations, ctx)

    def _race(self, ctx: SearchContext, iteration: int) -> list[GraphSpec]:
        if not self.race:
            return []
        return thompson(ctx, np.random.default_rng([self.seed, iteration, RACE_STREAM]), paired=self.paired)

    def _pilot_scored(self, evaluations: list[Evaluation]) -> None:
        """Move the queued pilot graphs this iteration scored into the pilot's rows."""
        by_shape = {Shape(e.graph): e for e in evaluations}
        left = []
        for entry in self.queue:
            e = by_shape.get(Shape(GraphSpec.model_validate(entry["graph"])))
            if e is None:
                left.append(entry)
                continue
            row = pilot_row(self.space, entry["label"], e)
            self.rows.append({**asdict(row), "graph": e.graph.model_dump(mode="json")})
        self.queue = left
        if not self.queue and not self.mixed:  # the pilot's second stage: mixes of its two best models
            self.mixed = True
            seen = {Shape(GraphSpec.model_validate(g)) for g in self.scored}
            rows = [(GraphSpec.model_validate(r["graph"]), r["objective"]) for r in self.rows]
            self.queue = [
                {"label": label, "graph": g.model_dump(mode="json")}
                for label, g in pair_mixes(self.space, rows)
                if Shape(g) not in seen
            ]

    def _keep_proposals(self, update: GraphUpdate, ctx: SearchContext) -> None:
        proposed = update.proposed_graph
        got = proposed_choices(GraphUpdate(proposed_graph=proposed), self.bound_pg) if proposed is not None else None
        if got is not None and self.race and not can_still_win(ctx, got[1]):
            proposed = None  # a settled graph: the slot goes to a sample
        self.pending = proposed.model_dump() if proposed is not None else None

    # --- checkpointing -------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "mixed": self.mixed,
            "rows": self.rows,
            "pending": self.pending,
            "racing": self.racing,
            "scored": self.scored,
            "identify": self.identify,
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        self.queue = list(state.get("queue", []))
        self.mixed = bool(state.get("mixed", False))
        self.rows = list(state.get("rows", []))
        self.pending = state.get("pending")
        self.racing = list(state.get("racing", []))
        self.scored = list(state.get("scored", []))
        self.identify = list(state.get("identify", []))
