"""What the statistical feedback agents share (`statistical_agent_v1`, the default's; `statistical_agent`, the
Gaussian-process variant's): the features the update credits, the advantage-weighted update of the
probabilities, and the one-line descriptions their textual gradients are written with."""

from __future__ import annotations

import numpy as np

from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.feedback import EdgeProb, GraphUpdate, PilotRow
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import OUTPUT_ID, slot_id

EXPLORE_MIX = 0.1
"""Share of each categorical target kept uniform, so no model or role is ruled out by a noisy batch."""
BERNOULLI_RANGE = (0.05, 0.95)
MIN_CHANGE = 0.01  # smaller target changes are left out of the textual gradient (it stays readable)


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


def weighted_update(pg: ProbabilisticGraph, feats: list[dict], weights: np.ndarray):
    """Targets = advantage-weighted means of each feature over every graph scored so far."""
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

    def categorical(target: np.ndarray, current: np.ndarray, labels: tuple[str, ...], what: str) -> dict:
        target = (1 - EXPLORE_MIX) * target + EXPLORE_MIX / len(labels)
        for k in np.argsort(-(target - current))[:1]:
            if target[k] - current[k] >= MIN_CHANGE:
                helped.append(f"{what} {short_model(labels[k])}: {current[k]:.2f} -> {target[k]:.2f}")
        for k in np.argsort(target - current)[:1]:
            if current[k] - target[k] >= MIN_CHANGE:
                hurt.append(f"{what} {short_model(labels[k])}: {current[k]:.2f} -> {target[k]:.2f}")
        return {n: round(float(v), 4) for n, v in zip(labels, target / target.sum())}

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
    return {
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
