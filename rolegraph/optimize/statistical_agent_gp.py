"""`StatisticalFeedbackAgent` of the Gaussian-process variant (`agent-reinforce:gp`): offline, deterministic
feedback from a belief about every graph. (`statistical_agent` is the default optimizer's.)

The belief is a Gaussian process over graph compositions (`surrogate.GraphSurrogate`) conditioned on
every graph scored so far, the pilot's first: it assumes only that similar graphs score alike, never
which model, size or mix is better, so what it prefers comes from this search's data (insight 1:
tasks prefer specific sizes and mixes, found out, not assumed). After the pilot and after each step:

1. Candidates: the graphs one edit away from the few graphs believed best (`neighbours`: another
   model or role for a node, a worker more or fewer: insights 2-3, width and depth have an optimum),
   and samples of the current and of the uniform distribution.
2. Proposal: the graph, scored or a candidate, that is the best of a posterior draw (Thompson sampling): each
   graph is proposed about as often as the belief holds it to be the best. In a staged space the belief reads
   each stage's model and width (`surrogate.staged_workers`), so a 1B searcher beside an 8B solver and the
   stages swapped are believed, weighted and proposed apart; a scored graph off the stages is left out (said).
3. Update: each probability's target is a weighted mean of that feature over candidates and scored
   graphs, with weights exp((believed objective - best) / T): the cross-entropy idea applied to the
   belief, which pools every score, instead of to a handful of noisy batch scores.
4. The textual gradient says what the belief credits and blames, and why the proposal was chosen.
"""

from __future__ import annotations

import numpy as np

from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.feedback import Feedback, GraphUpdate, InitContext, ProposedGraph, StepContext, TextualGradient
from rolegraph.optimize.neighbours import neighbours
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.statistical_common import (
    NAME,
    StatisticalAgent,
    describe,
    features,
    pilot_lines,
    step_gradient,
    weighted_update,
)
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
Evidence = list[tuple[GraphSpec, float, int]]


class StatisticalFeedbackAgent(StatisticalAgent):
    def __init__(self, step_temperature: float | None = None, proposals: int | None = None):
        self.temperature_step = STEP_TEMPERATURE if step_temperature is None else step_temperature
        self.proposals = PROPOSALS if proposals is None else proposals
        self._features: dict[str, np.ndarray | None] = {}  # caches of pure functions of a graph (same space)
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
    def initial_sync(self, ctx: InitContext) -> Feedback:
        rows = sorted(ctx.pilot, key=lambda r: -r.objective)
        evidence = [(r.graph, r.objective, r.n) for r in rows]
        update, (helped, hurt), why, _ = self._believe(ctx.space, ctx.pg, evidence, ctx.seed, 0)
        pilot_helped, pilot_hurt = pilot_lines(rows)
        helped, hurt = pilot_helped + helped, pilot_hurt + hurt
        summary = (
            f"pilot on {rows[0].n} items: best is {rows[0].label}; probabilities set from a belief fitted to the "
            f"pilot alone (insight 1: tasks prefer specific sizes and mixes); {why}"
            if rows
            else "no pilot results"
        )
        return Feedback(gradient=TextualGradient(helped=helped, hurt=hurt, summary=summary), update=update, agent=NAME)

    # --- one step -----------------------------------------------------------------------------------
    def step_sync(self, ctx: StepContext) -> Feedback:
        evidence = ctx.evidence or ctx.scored or [(e.graph, e.objective, e.record.n) for e in ctx.evaluations]
        update, lines, why, left_out = self._believe(ctx.space, ctx.pg, evidence, ctx.seed, ctx.iteration)
        gradient = self._gradient_text(ctx, lines, why)
        if not ctx.evaluations and left_out:  # "nothing scored" drops `why`, not what the belief left out
            gradient.summary += left_out
        return Feedback(gradient=gradient, update=update, agent=NAME)

    # --- the belief ---------------------------------------------------------------------------------
    def _believe(self, space: SearchSpace, pg: ProbabilisticGraph, evidence: Evidence, seed: int, iteration: int):
        """(update with a proposal, (helped, hurt) lines, why the proposal, and the clause saying how many scored
        graphs the belief left out, "" if none: `why` ends with it) from the surrogate's belief."""
        if not evidence:
            return GraphUpdate(), ([], []), "nothing scored yet", ""
        encoded = [(e, self._encode(space, e[0])) for e in evidence]
        evidence = [e for e, x in encoded if x is not None]  # a graph off a staged space's stages: said in `why`
        off = len(encoded) - len(evidence)
        left_out = f"; {off} scored graph(s) not of the space's stages left out of the belief" if off else ""
        if not evidence:
            return GraphUpdate(), ([], []), f"nothing scored on the space's stages yet{left_out}", left_out
        gp = GraphSurrogate(space, adapt=ADAPT)
        scored_x = np.array([x for _, x in encoded if x is not None])
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
            if x is not None and x.tobytes() not in seen:
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
            f"({mu[best]:.3f}{', not scored yet' if best >= len(evidence) else ''}){left_out}"
        )
        return update, lines, why, left_out

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

    def _encode(self, space: SearchSpace, spec: GraphSpec) -> np.ndarray | None:
        """The surrogate's encoding of `spec`, cached; None for a graph off a staged space's stages."""
        self._caches_for(space)
        key = _key(spec)
        if key not in self._features:
            if len(self._features) >= CACHE_LIMIT:
                self._features.clear()
            self._features[key] = encode(space, spec)
        return self._features[key]

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
        moved = f"probabilities moved toward the graphs believed best after {len(ctx.scored)} scored; {why}"
        return step_gradient(ctx, lines, moved)


def _key(spec: GraphSpec) -> str:
    return spec.model_dump_json(include={"nodes", "edges", "output"})
