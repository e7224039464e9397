"""`StatisticalFeedbackAgent`: offline, deterministic feedback from a belief about every graph.

The belief is a Gaussian process over graph compositions (`surrogate.GraphSurrogate`) conditioned on
every graph scored so far, the pilot's first: it assumes only that similar graphs score alike, never
which model, size or mix is better, so what it prefers comes from this search's data (insight 1:
tasks prefer specific sizes and mixes, found out, not assumed). After the pilot and after each step:

1. Candidates: the graphs one edit away from the few graphs believed best (`neighbours`: another
   model or role for a node, a worker more or fewer: insights 2-3, width and depth have an optimum),
   and samples of the current and of the uniform distribution.
2. Proposal: the unscored candidate with the highest upper confidence bound (mean + `UCB_BETA` standard
   deviations): the graph most likely to beat the leader, or the one most worth learning about.
3. Update: each probability's target is a weighted mean of that feature over candidates and scored
   graphs, with weights exp((believed objective - best) / T): the cross-entropy idea applied to the
   belief, which pools every score, instead of to a handful of noisy batch scores.
4. The textual gradient says what the belief credits and blames, and why the proposal was chosen.
"""

from __future__ import annotations

import numpy as np

from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.feedback import (
    Feedback,
    GraphUpdate,
    InitContext,
    PilotRow,
    ProposedGraph,
    StepContext,
    TextualGradient,
)
from rolegraph.optimize.neighbours import neighbours
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import OUTPUT_ID, SearchSpace
from rolegraph.optimize.statistical_common import describe, features, short_model, weighted_update
from rolegraph.optimize.surrogate import GraphSurrogate
from rolegraph.optimize.surrogate import features as encode

STEP_TEMPERATURE = 0.02
"""Weights exp((believed objective - best) / T) of the update: a graph believed 0.02 below the best counts 1/e."""
PROPOSALS = 1
"""Graphs proposed per step (Thompson sampling); the iteration's other graphs are samples of the distribution."""
EXPLOIT = False
ADAPT = False
THOMPSON_DRAWS = 64  # posterior draws looked through for that many distinct winners
SEED_GRAPHS = 4  # the graphs believed best whose neighbours are candidates
SAMPLES = 16  # candidates drawn from the current distribution, and as many from the uniform one
CANDIDATE_STREAM = 7  # the random stream of candidate draws (the loop uses 1 and 2)
MIN_WEIGHT = 1e-3  # update weights below this are left out (a graph believed 0.14 below the best at T 0.02)
CACHE_LIMIT = 20_000
TOP_LINES = 3
NAME = "statistical"
# A worker node is named in the textual gradient's `hurt` lines when it was right HURT_ACCURACY_GAP less often than
# its graph's output and the output agreed with it less often than HURT_AGREEMENT: it cost the budget and the fuser
# mostly overruled it. Shared with `statistical_agent_v1`, so both agents call the same nodes harmful.
HURT_ACCURACY_GAP = 0.2
HURT_AGREEMENT = 0.5
Evidence = list[tuple[GraphSpec, float, int]]


class StatisticalFeedbackAgent:
    name = NAME

    def __init__(self, step_temperature: float | None = None, proposals: int | None = None):
        self.temperature_step = STEP_TEMPERATURE if step_temperature is None else step_temperature
        self.proposals = PROPOSALS if proposals is None else proposals
        self._features: dict[str, np.ndarray] = {}  # caches of pure functions of a graph (same space)
        self._around: dict[str, list[GraphSpec]] = {}
        self._cached_space: SearchSpace | None = None  # the space both caches were filled for

    def _caches_for(self, space: SearchSpace) -> None:
        """Empty both caches when the agent is asked about another space: a graph's features and neighbours
        depend on the space (its slots, models, roles), and an agent reused by a search of another space would
        otherwise read the earlier space's answers. Held by reference, so identity is a safe test."""
        if space is not self._cached_space:
            self._features.clear()
            self._around.clear()
            self._cached_space = space

    # --- initialisation ---------------------------------------------------------------------------
    async def initial(self, ctx: InitContext) -> Feedback:
        return self.initial_sync(ctx)

    def initial_sync(self, ctx: InitContext) -> Feedback:
        rows = sorted(ctx.pilot, key=lambda r: -r.objective)
        evidence = [(r.graph, r.objective, r.n) for r in rows]
        update, (helped, hurt), why = self._believe(ctx.space, ctx.pg, evidence, ctx.seed, 0)
        helped = [_pilot_line(r) for r in rows[:TOP_LINES]] + helped
        hurt = [_pilot_line(r) for r in rows[-TOP_LINES:][::-1] if r not in rows[:TOP_LINES]] + hurt
        summary = (
            f"pilot on {rows[0].n} items: best is {rows[0].label}; probabilities set from a belief fitted to the "
            f"pilot alone (insight 1: tasks prefer specific sizes and mixes); {why}"
            if rows
            else "no pilot results"
        )
        return Feedback(gradient=TextualGradient(helped=helped, hurt=hurt, summary=summary), update=update, agent=NAME)

    # --- one step -----------------------------------------------------------------------------------
    async def step(self, ctx: StepContext) -> Feedback:
        return self.step_sync(ctx)

    def step_sync(self, ctx: StepContext) -> Feedback:
        evidence = ctx.evidence or ctx.scored or [(e.graph, e.objective, e.record.n) for e in ctx.evaluations]
        update, lines, why = self._believe(ctx.space, ctx.pg, evidence, ctx.seed, ctx.iteration)
        return Feedback(gradient=self._gradient_text(ctx, lines, why), update=update, agent=NAME)

    # --- the belief ---------------------------------------------------------------------------------
    def _believe(self, space: SearchSpace, pg: ProbabilisticGraph, evidence: Evidence, seed: int, iteration: int):
        """(update with a proposal, (helped, hurt) lines, why the proposal) from the surrogate's belief."""
        if not evidence:
            return GraphUpdate(), ([], []), "nothing scored yet"
        gp = GraphSurrogate(space, adapt=ADAPT)
        scored_x = np.array([self._encode(space, g) for g, _, _ in evidence])
        gp.fit_x(scored_x, [v for _, v, _ in evidence], [n for _, _, n in evidence])
        scored_mu, _ = gp.predict_x(scored_x)
        seeds = [evidence[k][0] for k in np.argsort(-scored_mu)[:SEED_GRAPHS]]
        rng = np.random.default_rng([seed, iteration, CANDIDATE_STREAM])
        pool = [g for s in seeds for g in self._neighbours(space, s)]
        pool += [pg.sample(rng) for _ in range(SAMPLES)] + [
            ProbabilisticGraph(space).sample(rng) for _ in range(SAMPLES)
        ]
        seen = {x.tobytes() for x in scored_x}
        cands: dict[bytes, tuple[GraphSpec, np.ndarray]] = {}
        for g in pool:
            x = self._encode(space, g)
            if x.tobytes() not in seen:
                cands.setdefault(x.tobytes(), (g, x))
        graphs = [g for g, _, _ in evidence] + [g for g, _ in cands.values()]
        xs = np.concatenate([scored_x, np.array([x for _, x in cands.values()]).reshape(-1, scored_x.shape[1])])
        mu, sd = gp.predict_x(xs)
        weights = np.exp((mu - mu.max()) / self.temperature_step)
        keep = weights >= MIN_WEIGHT  # graphs believed far below the best add nothing to the targets
        feats = [features(space, g) for g, k in zip(graphs, keep) if k]
        update, lines = weighted_update(pg, feats, weights[keep])
        picks = self._thompson(gp, xs, rng, [int(np.argmax(mu[: len(evidence)]))] if EXPLOIT else [])
        update.proposed_graph = ProposedGraph.from_spec(graphs[picks[0]])
        update.more_proposals = [ProposedGraph.from_spec(graphs[k]) for k in picks[1:]]
        best = int(np.argmax(mu))
        why = (
            f"proposed {len(picks)} graph(s) by Thompson sampling, first {describe(graphs[picks[0]])} "
            f"(believed {mu[picks[0]]:.3f} +- {sd[picks[0]]:.3f}); believed best {describe(graphs[best])} "
            f"({mu[best]:.3f}{', not scored yet' if best >= len(evidence) else ''})"
        )
        return update, lines, why

    def _thompson(self, gp: GraphSurrogate, xs: np.ndarray, rng: np.random.Generator, first: list[int]) -> list[int]:
        """Up to `PROPOSALS` distinct graphs, each the best of one posterior draw (later draws skip the
        graphs already picked): each graph is scored about as often as it is believed to be the best."""
        picks: list[int] = list(first)
        for draw in gp.sample_x(xs, rng, THOMPSON_DRAWS):
            k = int(np.argmax(draw))
            if k not in picks:
                picks.append(k)
            if len(picks) >= self.proposals:
                break
        return picks

    def _encode(self, space: SearchSpace, spec: GraphSpec) -> np.ndarray:
        self._caches_for(space)
        key = _key(spec)
        x = self._features.get(key)
        if x is None:
            if len(self._features) >= CACHE_LIMIT:
                self._features.clear()
            x = self._features[key] = encode(space, spec)
        return x

    def _neighbours(self, space: SearchSpace, spec: GraphSpec) -> list[GraphSpec]:
        self._caches_for(space)
        key = _key(spec)
        found = self._around.get(key)
        if found is None:
            if len(self._around) >= CACHE_LIMIT:
                self._around.clear()
            found = self._around[key] = [g for _, g in neighbours(space, spec)]
        return found

    def _gradient_text(self, ctx: StepContext, lines: tuple[list[str], list[str]], why: str) -> TextualGradient:
        helped, hurt = list(lines[0]), list(lines[1])
        ordered = sorted(ctx.evaluations, key=lambda e: -e.objective)
        helped += [f"{describe(e.graph)}: objective {e.objective:.3f}" for e in ordered[:1]]
        hurt += [f"{describe(e.graph)}: objective {e.objective:.3f}" for e in ordered[1:][-1:]]
        for e in ctx.evaluations:
            for node_id, st in e.per_node.items():
                if (
                    st.correct_rate is not None
                    and node_id != OUTPUT_ID
                    and st.agree_rate is not None
                    and st.correct_rate < e.record.accuracy - HURT_ACCURACY_GAP
                    and st.agree_rate < HURT_AGREEMENT
                ):
                    hurt.append(
                        f"{node_id} ({st.role}/{short_model(st.model)}) in {e.record.graph_name}: right "
                        f"{st.correct_rate:.0%}, the output disagreed with it {1 - st.agree_rate:.0%}"
                    )
        objs = [e.objective for e in ctx.evaluations]
        summary = (
            f"iteration {ctx.iteration}: {len(objs)} graphs scored {min(objs):.3f}..{max(objs):.3f}; "
            f"probabilities moved toward the graphs believed best after {len(ctx.scored)} scored; {why}"
            if objs
            else f"iteration {ctx.iteration}: nothing scored"
        )
        return TextualGradient(helped=helped[: 2 * TOP_LINES], hurt=hurt[: 2 * TOP_LINES], summary=summary)


def _key(spec: GraphSpec) -> str:
    return spec.model_dump_json(include={"nodes", "edges", "output"})


def _pilot_line(r: PilotRow) -> str:
    return f"{r.label}: objective {r.objective:.3f} (accuracy {r.accuracy:.2f}, cost {r.budget_cost:.3g})"
