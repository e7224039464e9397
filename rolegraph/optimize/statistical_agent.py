"""`StatisticalFeedbackAgent`, the default optimizer's (and v1's) agent: offline, deterministic feedback by
credit assignment. (`statistical_agent_gp` is the Gaussian-process variant's.)

Initialisation (insight 1): the pilot's single models and equal-budget ensembles are scored; each
model's best pilot objective becomes a softmax preference for the worker and output slots, and the
presence of worker slots follows the best pilot graph's width. A staged space does this per stage, over
the models each stage allows (`_staged_initial`).

Each step: every graph scored so far gets the weight exp((objective - best) / T) (objectives pooled
over all its items and shrunk toward the mean, so one lucky batch does not dominate); each
feature's target probability is its advantage-weighted mean: worker models and roles (pooled over
slots; per stage in a staged space, `statistical_common.weighted_update`), the output's model and role,
the width (presence) and the edge densities (depth). This is
the REINFORCE idea with credit shared between slots, which a handful of noisy batches can support.
It also proposes the next graph: the best so far while it has few items, else a local mutation of
it that follows the paper's advice (grow from the output, resize a node, rewire).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rolegraph.graphs.isomorphism import isomorphic
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.choices import Choices, from_graph, realise
from rolegraph.optimize.feedback import (
    Feedback,
    GraphUpdate,
    InitContext,
    PilotRow,
    ProposedGraph,
    StepContext,
    TextualGradient,
)
from rolegraph.optimize.probabilistic import ProbabilisticGraph, softmax
from rolegraph.optimize.space import OUTPUT_ID, slot_id
from rolegraph.optimize.stage_feedback import presence_for_width, restrict, stage_features
from rolegraph.optimize.stages import slot_ranges
from rolegraph.optimize.statistical_common import (
    NAME,
    StatisticalAgent,
    features,
    fix_rounding,
    pilot_lines,
    step_gradient,
    weighted_update,
)

STEP_TEMPERATURE = 0.05
"""Weights exp((objective - best) / T) over every graph scored: a graph 0.05 below the best counts 1/e."""
PREFERENCE_TEMPERATURE = 0.15  # objective gap of 0.15 = e-fold preference in the pilot's softmax
UNIFORM_MIX = 0.5
"""Share of the initial model preference kept uniform: a pilot on one small batch is noisy (a 16-item
score has a standard error near 0.12), so it tilts the odds without ruling a model out."""
RECHECK_ITEMS = 32  # re-propose the best graph until it has been scored on this many items
RIVALS = 2  # ... and on as many as each of the next RIVALS graphs on the leaderboard
MUTATION_TRIES = 8  # draws for a mutation that differs from the best graph after repair
MUTATION_STREAM = 7  # the random stream of mutations (the loop uses 1 and 2)
PRESENCE_RANGE = (0.15, 0.85)


class StatisticalFeedbackAgent(StatisticalAgent):
    def __init__(self, temperature: float = PREFERENCE_TEMPERATURE, step_temperature: float = STEP_TEMPERATURE):
        self.temperature = temperature
        self.temperature_step = step_temperature

    # --- initialisation ---------------------------------------------------------------------------
    def initial_sync(self, ctx: InitContext) -> Feedback:
        space = ctx.space
        rows = sorted(ctx.pilot, key=lambda r: -r.objective)
        worker_score: dict[str, float] = {}
        out_score: dict[str, float] = {}
        for r in rows:
            out_model = r.graph.node(r.graph.output_id()).model
            out_score[out_model] = max(out_score.get(out_model, -np.inf), r.objective)
            for n in r.graph.nodes:
                if n.id != r.graph.output_id() or len(r.graph.nodes) == 1:
                    worker_score[n.model] = max(worker_score.get(n.model, -np.inf), r.objective)
        update = GraphUpdate()
        w_pref = self._preference(space.models, worker_score)
        o_pref = self._preference(space.models, out_score)
        for i in range(space.worker_slots):
            update.models[slot_id(i)] = w_pref
        update.models[OUTPUT_ID] = o_pref
        best = rows[0] if rows else None
        if space.stages and ctx.pg.masks is not None:
            _staged_initial(ctx.pg, update, rows, self._preference)
        elif best is not None and space.worker_slots:
            width = len(best.graph.nodes) - 1
            frac = min(max(width / space.worker_slots, PRESENCE_RANGE[0]), PRESENCE_RANGE[1])
            update.presence = {slot_id(i): frac for i in range(space.worker_slots)}
        if best is not None and space.worker_slots and from_graph(space, best.graph) is not None:
            update.proposed_graph = ProposedGraph.from_spec(best.graph)
        helped, hurt = pilot_lines(rows)
        summary = (
            f"pilot on {rows[0].n if rows else 0} items: best is {best.label}; model preferences set from "
            "each model's best pilot result (insight 1: tasks prefer specific sizes and mixes)"
            if best
            else "no pilot results"
        )
        return Feedback(gradient=TextualGradient(helped=helped, hurt=hurt, summary=summary), update=update, agent=NAME)

    def _preference(self, models: tuple[str, ...], score: dict[str, float]) -> dict[str, float]:
        known = [score.get(m, None) for m in models]
        floor = min((s for s in known if s is not None), default=0.0)
        vec = np.array([s if s is not None else floor for s in known], dtype=float)
        probs = (1 - UNIFORM_MIX) * softmax(vec / self.temperature) + UNIFORM_MIX / len(models)
        return {m: round(float(p), 4) for m, p in zip(models, probs)}

    # --- one step -----------------------------------------------------------------------------------
    def step_sync(self, ctx: StepContext) -> Feedback:
        scored = ctx.scored or [(e.graph, e.objective, e.record.n) for e in ctx.evaluations]
        feats = [features(ctx.space, g) for g, _, _ in scored]
        objs = np.array([v for _, v, _ in scored], dtype=float)
        update = GraphUpdate()
        lines: tuple[list[str], list[str]] = ([], [])
        if len(scored) >= 2 and objs.max() > objs.min():
            weights = np.exp((objs - objs.max()) / self.temperature_step)
            update, lines = weighted_update(ctx.pg, feats, weights)
        moved = not update.is_empty()
        update.proposed_graph = self._proposal(ctx)
        return Feedback(gradient=self._gradient_text(ctx, lines, moved), update=update, agent=NAME)

    def _proposal(self, ctx: StepContext) -> ProposedGraph | None:
        if ctx.best_graph is None:
            return None
        rivals = [n for _, _, n in ctx.scored[1 : 1 + RIVALS]]
        if ctx.best_n < max([RECHECK_ITEMS, *rivals]):  # a leader with less evidence than its rivals: re-check it
            return ProposedGraph.from_spec(ctx.best_graph) if from_graph(ctx.space, ctx.best_graph) else None
        rng = np.random.default_rng([ctx.seed, ctx.iteration, MUTATION_STREAM])
        for _ in range(MUTATION_TRIES):  # a mutation that repairs back into the best graph is no proposal
            mutated = mutate(ctx, rng)
            if mutated is not None and not isomorphic(mutated, ctx.best_graph):
                return ProposedGraph.from_spec(mutated)
        return None

    def _gradient_text(
        self, ctx: StepContext, lines: tuple[list[str], list[str]], moved: bool = True
    ) -> TextualGradient:
        """`moved` False: every graph so far scored the same, so there was nothing to move toward (said so, not
        "moved toward the best")."""
        n = len(ctx.scored)
        if moved:
            why = f"probabilities moved toward the features of the best of {n} graphs so far"
        else:
            why = f"probabilities unchanged: the {n} graphs so far scored alike" if n > 1 else NOTHING_TO_COMPARE
        return step_gradient(ctx, lines, why)


NOTHING_TO_COMPARE = "probabilities unchanged: fewer than two graphs scored so far"


def _staged_initial(
    pg: ProbabilisticGraph,
    update: GraphUpdate,
    rows: list[PilotRow],
    preference: Callable[[tuple[str, ...], dict[str, float]], dict[str, float]],
) -> None:
    """A staged space's initial targets, per stage: each stage's slots prefer the models *that stage* ran in the
    best pilot graphs (a pipeline pilot of the 8B runs its searchers on a 3B when the search stage has no 8B:
    pooled over the slots, the 3B searcher would be credited the 8B's score), over the models the stage allows
    only; the output likewise; each stage's presence makes the best pilot graph's width its expected width."""
    space, masks = pg.space, pg.masks
    if masks is None:
        return
    read = [(f, r.objective) for r in rows if (f := stage_features(space, r.graph)) is not None]
    best = stage_features(space, rows[0].graph) if rows else None  # rows: best first
    for s, (stage, slots) in enumerate(zip(space.stages, slot_ranges(space.stages))):
        score: dict[str, float] = {}
        for f, objective in read:
            for k in np.flatnonzero(f["models"][s]):
                score[space.models[k]] = max(score.get(space.models[k], -np.inf), objective)
        row = preference(stage.models, score)
        update.models.update({slot_id(i): dict(row) for i in slots})
        if best is not None and len(stage.widths) > 1:  # one allowed width: presence changes nothing
            presence = round(presence_for_width(stage, best["widths"][s], *PRESENCE_RANGE), 4)
            update.presence.update({slot_id(i): presence for i in slots})
    allowed = masks.out_model
    out = restrict(np.array([update.models[OUTPUT_ID][m] for m in space.models]), allowed)
    update.models[OUTPUT_ID] = {m: round(float(v), 4) for m, v, keep in zip(space.models, out, allowed) if keep}
    fix_rounding(update)


def mutate(ctx: StepContext, rng: np.random.Generator) -> GraphSpec | None:
    """A neighbour of the best graph (one change), repaired into the budget."""
    space = ctx.space
    if ctx.best_graph is None:
        return None
    c = from_graph(space, ctx.best_graph)
    if c is None:
        return None
    present = [i for i in range(space.worker_slots) if c.present[i]]
    free = [i for i in range(space.worker_slots) if not c.present[i]]
    ops = ["resize", "role"] + (["grow"] if free else []) + (["shrink"] if present else [])
    if space.worker_edges and len(present) >= 2:
        ops.append("rewire")
    op = ops[int(rng.integers(len(ops)))]
    present_l, models, roles, edges = list(c.present), list(c.models), list(c.roles), list(c.edges)
    out_model, out_role = c.out_model, c.out_role
    by_size = sorted(range(len(space.models)), key=lambda k: space.size(space.models[k]))
    if op == "resize":
        target = int(rng.integers(len(present) + 1))
        current = out_model if target == len(present) else models[present[target]]
        pos = by_size.index(current) + (1 if rng.random() < 0.5 else -1)
        new = by_size[min(max(pos, 0), len(by_size) - 1)]
        if target == len(present):
            out_model = new
        else:
            models[present[target]] = new
    elif op == "role":
        target = int(rng.integers(len(present) + 1))
        if target == len(present):
            out_role = int(rng.integers(len(space.output_roles)))
        else:
            roles[present[target]] = int(rng.integers(len(space.worker_roles)))
    elif op == "grow":  # grow outward from the output: a new worker feeding it
        slot = free[0]
        present_l[slot] = True
        models[slot] = int(rng.integers(len(space.models)))
        roles[slot] = space.worker_roles.index("solver") if "solver" in space.worker_roles else 0
    elif op == "shrink":
        present_l[present[int(rng.integers(len(present)))]] = False
    else:
        worker_pairs = [
            k
            for k, (i, j) in enumerate(ProbabilisticGraph(space).pairs)
            if j < space.worker_slots and present_l[i] and present_l[j]
        ]
        if worker_pairs:
            k = worker_pairs[int(rng.integers(len(worker_pairs)))]
            edges[k] = not edges[k]
    new_c = Choices(tuple(present_l), tuple(models), tuple(roles), tuple(edges), out_model, out_role)
    return realise(space, new_c, "mutated")[1]
