"""What the statistical feedback agents share (`statistical_agent`, the default's and v1's; `statistical_agent_gp`,
the Gaussian-process variant's): their name, the features the update credits, the advantage-weighted update of
the probabilities (per stage in a staged space, `stage_feedback`), and the lines their textual gradients are
written with (so both agents call the same graphs and nodes helpful or harmful)."""

from __future__ import annotations

import numpy as np

from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.feedback import (
    EdgeProb,
    Feedback,
    GraphUpdate,
    InitContext,
    PilotRow,
    StepContext,
    TextualGradient,
)
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import OUTPUT_ID, slot_id
from rolegraph.optimize.stage_feedback import expected_width, presence_for_width, restrict, stage_features, stage_means
from rolegraph.optimize.stages import slot_ranges

EXPLORE_MIX = 0.1
"""Share of each categorical target kept uniform, so no model or role is ruled out by a noisy batch."""
BERNOULLI_RANGE = (0.05, 0.95)
MIN_CHANGE = 0.01  # smaller target changes are left out of the textual gradient (it stays readable)
NAME = "statistical"
"""Both statistical agents' name (`feedback_agent_name()`, stored with a run): they are told apart by optimizer."""
TOP_LINES = 3
# A worker node is named in the textual gradient's `hurt` lines when it was right HURT_ACCURACY_GAP less often than
# its graph's output and the output agreed with it less often than HURT_AGREEMENT: it cost the budget and the fuser
# mostly overruled it.
HURT_ACCURACY_GAP = 0.2
HURT_AGREEMENT = 0.5


class StatisticalAgent:
    """The async face of an offline agent: it computes at once (`initial_sync`, `step_sync`), nothing to await."""

    name = NAME

    async def initial(self, ctx: InitContext) -> Feedback:
        return self.initial_sync(ctx)

    async def step(self, ctx: StepContext) -> Feedback:
        return self.step_sync(ctx)

    def initial_sync(self, ctx: InitContext) -> Feedback:
        raise NotImplementedError

    def step_sync(self, ctx: StepContext) -> Feedback:
        raise NotImplementedError


def short_model(model_id: str) -> str:
    return model_id.split("/")[-1]


def describe(spec: GraphSpec) -> str:
    """A one-line graph description: workers by role/model, then the output."""
    out = spec.node(OUTPUT_ID) if OUTPUT_ID in spec.node_ids else spec.node(spec.output_id())
    workers = [n for n in spec.nodes if n.id != out.id]
    inner = sum(1 for s, d in spec.edges if d != out.id)
    parts = ", ".join(f"{n.id}:{n.role}/{short_model(n.model)}" for n in workers)
    return (
        f"[{parts}] -> {out.role}/{short_model(out.model)}" + (f" ({inner} inner edges)" if inner else "")
        if workers
        else f"single {out.role}/{short_model(out.model)}"
    )


def pilot_line(r: PilotRow) -> str:
    return f"{r.label}: objective {r.objective:.3f} (accuracy {r.accuracy:.2f}, cost {r.budget_cost:.3g})"


def pilot_lines(rows: list[PilotRow]) -> tuple[list[str], list[str]]:
    """(helped, hurt) lines of the pilot's table, `rows` best first: the best few that scored above 0 and the
    worst few. Why not the best few whatever they scored: on a hard task or a one-item pilot the best rows can
    score 0, and calling a graph that got nothing right "helped" tells the reader of the run's report (its
    feedback section) the opposite of what was measured. Text only: no probability or proposal depends on it."""
    helped = [r for r in rows[:TOP_LINES] if r.objective > 0]
    return [pilot_line(r) for r in helped], [pilot_line(r) for r in rows[-TOP_LINES:][::-1] if r not in helped]


def step_gradient(ctx: StepContext, lines: tuple[list[str], list[str]], moved: str) -> TextualGradient:
    """A step's textual gradient: the update's `lines` (helped, hurt), then the iteration's best and worst graph
    and the workers its output mostly overruled; `moved` says where the probabilities went and why."""
    helped, hurt = list(lines[0]), list(lines[1])
    ordered = sorted(ctx.evaluations, key=lambda e: -e.objective)
    if len(ordered) < 2 or ordered[0].objective > ordered[-1].objective:  # of graphs that tied neither is named
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
        f"iteration {ctx.iteration}: {len(objs)} graphs scored {min(objs):.3f}..{max(objs):.3f}; {moved}"
        if objs
        else f"iteration {ctx.iteration}: nothing scored"
    )
    return TextualGradient(helped=helped[: 2 * TOP_LINES], hurt=hurt[: 2 * TOP_LINES], summary=summary)


def weighted_update(pg: ProbabilisticGraph, feats: list[dict], weights: np.ndarray):
    """Targets = advantage-weighted means of each feature over every graph scored so far. A staged space learns
    each stage's model and width from that stage's nodes alone, within what the stage allows (`stage_feedback`):
    pooled over every slot, a searcher slot would be credited the solver's model and vice versa."""
    space = pg.space
    probs = pg.probs()
    update = GraphUpdate()
    helped: list[str] = []
    hurt: list[str] = []

    def mean(key: str, mask_key: str | None = None) -> np.ndarray | None:
        rows = [(f[key], w) for f, w in zip(feats, weights) if mask_key is None or f[mask_key]]
        total = sum(w for _, w in rows)
        if not rows or total <= 0:
            return None
        return sum(np.asarray(v, dtype=float) * w for v, w in rows) / total

    def categorical(
        target: np.ndarray, current: np.ndarray, labels: tuple[str, ...], what: str, allowed: np.ndarray | None = None
    ) -> dict:
        """`allowed` (a staged space's mask): the target is restricted to the open labels and renormalised, its
        uniform share spread over them only, and only they are named, so the figures are the sampler's."""
        if allowed is None:
            target = (1 - EXPLORE_MIX) * target + EXPLORE_MIX / len(labels)
        else:
            target = (1 - EXPLORE_MIX) * restrict(target, allowed) + EXPLORE_MIX * allowed / allowed.sum()
        for k in np.argsort(-(target - current))[:1]:
            if target[k] - current[k] >= MIN_CHANGE:
                helped.append(f"{what} {short_model(labels[k])}: {current[k]:.2f} -> {target[k]:.2f}")
        for k in np.argsort(target - current)[:1]:
            if current[k] - target[k] >= MIN_CHANGE:
                hurt.append(f"{what} {short_model(labels[k])}: {current[k]:.2f} -> {target[k]:.2f}")
        shares = zip(labels, target / target.sum(), allowed if allowed is not None else [True] * len(labels))
        return {n: round(float(v), 4) for n, v, keep in shares if keep}

    masks = pg.masks
    if space.stages and masks is not None:  # learnt per stage, never pooled over the stages' slots
        for stage, slots, (models_s, width_s) in zip(
            space.stages, slot_ranges(space.stages), stage_means(feats, weights, len(space.stages))
        ):
            what = f"{stage.name} stage"
            held = restrict(np.mean(probs.models[list(slots)], axis=0), masks.models[slots[0]])
            if models_s is not None:
                row = categorical(models_s, held, space.models, f"{what} model", masks.models[slots[0]])
                update.models.update({slot_id(i): row for i in slots})
            if width_s is not None and len(stage.widths) > 1:  # one allowed width: presence changes nothing
                presence = presence_for_width(stage, width_s, *BERNOULLI_RANGE)
                now = expected_width(stage, probs.presence[list(slots)])
                then = expected_width(stage, np.full(stage.max_width, presence))
                if f"{now:.1f}" != f"{then:.1f}":  # a line that reads "1.3 -> 1.3" says nothing
                    (helped if then >= now else hurt).append(f"{what} width: {now:.1f} -> {then:.1f}")
                update.presence.update({slot_id(i): round(presence, 4) for i in slots})
        out_model, out_role = mean("out_model"), mean("out_role")
        if out_model is not None:
            update.models[OUTPUT_ID] = categorical(
                out_model, probs.out_model, space.models, "output model", masks.out_model
            )
        if out_role is not None:
            update.roles[OUTPUT_ID] = categorical(
                out_role, probs.out_role, space.output_roles, "output role", masks.out_role
            )
        fix_rounding(update)  # stage roles are fixed and stage edges decided by the stages: nothing to learn
        return update, (list(dict.fromkeys(helped)), list(dict.fromkeys(hurt)))
    w = space.worker_slots
    models, roles = mean("models", "has_workers"), mean("roles", "has_workers")
    for i in range(w):
        if models is not None:
            update.models[slot_id(i)] = categorical(models, probs.models[i], space.models, "worker model")
        if roles is not None:
            update.roles[slot_id(i)] = categorical(roles, probs.roles[i], space.worker_roles, "worker role")
    helped, hurt = list(dict.fromkeys(helped)), list(dict.fromkeys(hurt))
    out_model, out_role = mean("out_model"), mean("out_role")
    if out_model is not None:  # every graph has an output, so both exist whenever any graph is weighted
        update.models[OUTPUT_ID] = categorical(out_model, probs.out_model, space.models, "output model")
    if out_role is not None:
        update.roles[OUTPUT_ID] = categorical(out_role, probs.out_role, space.output_roles, "output role")
    mean_width = mean("width")
    if w and mean_width is not None:
        width = float(mean_width)
        presence = float(np.clip(width / w, *BERNOULLI_RANGE))
        update.presence = {slot_id(i): round(presence, 4) for i in range(w)}
        (helped if width >= probs.presence.sum() else hurt).append(
            f"width: expected workers {probs.presence.sum():.1f} -> {width:.1f} (insight 2: width has an optimum)"
        )
        inner = mean("inner_density", "has_inner")
        to_out = mean("out_density", "has_workers")
        for i, j in pg.pairs:
            target = to_out if j == w else inner
            if target is not None:
                update.edges.append(
                    EdgeProb(
                        src=pg.node_id(i), dst=pg.node_id(j), prob=round(float(np.clip(target, *BERNOULLI_RANGE)), 4)
                    )
                )
        inner_now = [probs.edges[k] for k, (_, j) in enumerate(pg.pairs) if j < w]
        if inner is not None and inner_now:  # a space without worker-to-worker edges has none
            current = float(np.mean(inner_now))
            (helped if inner >= current else hurt).append(
                f"worker-to-worker edges (depth): {current:.2f} -> {float(inner):.2f} (insights 2-3)"
            )
    fix_rounding(update)
    return update, (helped, hurt)


def fix_rounding(update: GraphUpdate) -> None:
    """Rounded categorical targets may sum to 1 + 1e-4: rescale so validation never trips on it."""
    for field in (update.models, update.roles):
        for node, row in field.items():
            total = sum(row.values())
            if total > 1:
                field[node] = {k: v / total for k, v in row.items()}


def features(space, spec: GraphSpec) -> dict:
    """What the update credits: worker model/role shares, output model/role, width, edge densities."""
    out = spec.output_id()
    workers = [n for n in spec.nodes if n.id != out]
    k = len(workers)
    models = np.zeros(len(space.models))
    roles = np.zeros(len(space.worker_roles))
    for n in workers:
        if n.model in space.models:
            models[space.models.index(n.model)] += 1 / k
        if n.role in space.worker_roles:
            roles[space.worker_roles.index(n.role)] += 1 / k
    out_model = np.zeros(len(space.models))
    out_role = np.zeros(len(space.output_roles))
    node = spec.node(out)
    if node.model in space.models:
        out_model[space.models.index(node.model)] = 1.0
    if node.role in space.output_roles:
        out_role[space.output_roles.index(node.role)] = 1.0
    inner = sum(1 for _, d in spec.edges if d != out)
    into_out = sum(1 for _, d in spec.edges if d == out)
    pairs = k * (k - 1) / 2
    staged = {"stages": stage_features(space, spec)} if space.stages else {}
    return staged | {
        "models": models,
        "roles": roles,
        "out_model": out_model,
        "out_role": out_role,
        "width": float(k),
        "has_workers": k > 0,
        "has_inner": pairs > 0,
        "inner_density": inner / pairs if pairs else 0.0,
        "out_density": into_out / k if k else 0.0,
    }


def pilot_table(rows: list[PilotRow]) -> str:
    lines = ["graph | accuracy | objective | budget cost | latency s | $ per item"]
    for r in sorted(rows, key=lambda r: -r.objective):
        lines.append(
            f"{r.label} | {r.accuracy:.3f} | {r.objective:.3f} | {r.budget_cost:.3g} | {r.latency_s:.2f} | "
            f"{r.dollars:.5f}"
        )
    return "\n".join(lines)
