"""What the statistical feedback agents learn per stage of a staged space (`rolegraph.optimize.stages`).

Why per stage: the point of an AgentTTS-style space is that each stage takes its own model and width (a small
searcher beside a big solver), and its slots only allow the stage's models and its role. Pooling every worker
slot into one target, as the free-form update does, wrote the same distribution to a planner slot and a searcher
slot, credited models a stage cannot run, and reported "current -> target" figures the sampler never uses. So a
graph is read stage by stage here (`stage_features`), the targets are each stage's advantage-weighted means
(`stage_means`), and a width target becomes the presence probability whose *realised* width (the sampler's count
of present slots rounded to the stage's nearest allowed width, `choices._normalise_staged`) has that mean
(`presence_for_width`, `expected_width`).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.choices import Choices, edge_pairs, from_graph
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import OUTPUT_ID, SearchSpace, slot_id
from rolegraph.optimize.stages import Stage, slot_ranges, stage_edges

BISECTION_STEPS = 50  # presence found to 2**-50: far below the 4 decimals an update is rounded to


def _slot_choices(space: SearchSpace, spec: GraphSpec) -> Choices | None:
    """The slots of `spec`: read off its node ids when it is a staged graph in slot form (every graph the sampler,
    a mutation or a pilot builds, found without an isomorphism search), else mapped by `from_graph`."""
    w = space.worker_slots
    ids = {slot_id(i): i for i in range(w)}
    workers = [n for n in spec.nodes if n.id != OUTPUT_ID]
    if spec.output == OUTPUT_ID and all(n.id in ids for n in workers):
        present = [False] * w
        models = [0] * w
        for n in workers:
            present[ids[n.id]] = True
            models[ids[n.id]] = space.models.index(n.model) if n.model in space.models else -1
        groups = [[i for i in slots if present[i]] for slots in slot_ranges(space.stages)]
        in_stage = all(
            spec.node(slot_id(i)).role == stage.role and models[i] >= 0 and space.models[models[i]] in stage.models
            for stage, group in zip(space.stages, groups)
            for i in group
        )
        wanted = {(slot_id(a), OUTPUT_ID if b == w else slot_id(b)) for a, b in stage_edges(groups, w)}
        if in_stage and set(spec.edges) == wanted:
            return Choices(
                present=tuple(present),
                models=tuple(models),
                roles=tuple([0] * w),
                edges=tuple(False for _ in edge_pairs(w, space.worker_edges)),
                out_model=0,
                out_role=0,
            )
    return from_graph(space, spec)


def stage_features(space: SearchSpace, spec: GraphSpec) -> dict | None:
    """Per stage: the share of its nodes on each model (zeros when the stage is empty) and its width; None for a
    graph that is not a graph of the space's stages (it then teaches the stages nothing)."""
    c = _slot_choices(space, spec)
    if c is None:
        return None
    models, widths = [], []
    for slots in slot_ranges(space.stages):
        on = [i for i in slots if c.present[i]]
        share = np.zeros(len(space.models))
        for i in on:
            share[c.models[i]] += 1.0 / len(on)
        models.append(share)
        widths.append(float(len(on)))
    return {"models": models, "widths": widths}


def stage_means(feats: list[dict], weights: np.ndarray, count: int) -> list[tuple[np.ndarray | None, float | None]]:
    """Per stage: (advantage-weighted mean model share over the graphs that ran the stage, weighted mean width over
    the graphs read stage by stage); None where no graph with weight says anything."""
    out: list[tuple[np.ndarray | None, float | None]] = []
    rows = [(f["stages"], w) for f, w in zip(feats, weights) if f.get("stages") is not None]
    for s in range(count):
        ran = [(st["models"][s], w) for st, w in rows if st["widths"][s] > 0]
        ran_total = sum(w for _, w in ran)
        model = sum(v * w for v, w in ran) / ran_total if ran and ran_total > 0 else None
        total = sum(w for _, w in rows)
        width = sum(st["widths"][s] * w for st, w in rows) / total if rows and total > 0 else None
        out.append((None if model is None else np.asarray(model, dtype=float), width))
    return out


def expected_width(stage: Stage, presences: np.ndarray) -> float:
    """The stage's mean realised width when its slots are present with these probabilities: the count of present
    slots (a Poisson binomial, by dynamic programming) moved to the nearest allowed width, as the sampler does."""
    dist = np.zeros(len(presences) + 1)
    dist[0] = 1.0
    for p in presences:
        dist[1:] = dist[1:] * (1 - p) + dist[:-1] * p
        dist[0] *= 1 - p
    return float(sum(q * stage.nearest_width(k) for k, q in enumerate(dist)))


def presence_for_width(stage: Stage, width: float, low: float, high: float) -> float:
    """The presence probability in [low, high], the same for each of the stage's slots, whose expected realised
    width is `width` (the nearest the range allows): the mean realised width grows with the presence."""

    def mean(p: float) -> float:
        return expected_width(stage, np.full(stage.max_width, p))

    if width <= mean(low):
        return low
    if width >= mean(high):
        return high
    lo, hi = low, high
    for _ in range(BISECTION_STEPS):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mean(mid) < width else (lo, mid)
    return (lo + hi) / 2


def restrict(row: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """`row` with the closed choices at 0, renormalised over the open ones (uniform over them if `row` gives the
    open ones no mass): the distribution the sampler draws from (`probabilistic._closed`)."""
    kept = np.where(allowed, row, 0.0)
    total = kept.sum()
    return kept / total if total > 0 else allowed / allowed.sum()


class _Targets(Protocol):
    """What `closed_targets` reads of a `feedback.GraphUpdate` (which imports this module: named by shape)."""

    models: dict[str, dict[str, float]]
    roles: dict[str, dict[str, float]]
    edges: list[Any]


def closed_targets(update: _Targets, pg: ProbabilisticGraph) -> list[str]:
    """Each target of `update` a staged space closes (`ChoiceMasks`): a stage slot given a model its stage does not
    run, a role other than its stage's, or an edge the stages decide. Sampling would drop them (a closed choice has
    probability 0), so an agent that wrote them would believe it moved the search when it did nothing: said as
    problems (`feedback.validate_update`), which the LLM agent is asked to correct."""
    space, masks = pg.space, pg.masks
    if masks is None:
        return []
    w = space.worker_slots
    names = {i: stage.name for stage, slots in zip(space.stages, slot_ranges(space.stages)) for i in slots}
    problems: list[str] = []

    def check(kind: str, node: str, targets: dict[str, float], labels: tuple[str, ...], open_: np.ndarray) -> None:
        closed = [name for name, p in targets.items() if p > 0 and name in labels and not open_[labels.index(name)]]
        if closed:
            where = "the output" if node == OUTPUT_ID else f"the {names[pg.node_index(node) or 0]} stage"
            allowed = ", ".join(label for label, ok in zip(labels, open_) if ok)
            problems.append(f"{kind}s: node {node} cannot take {', '.join(closed)} ({where} allows {allowed})")

    for node, targets in update.models.items():
        idx = pg.node_index(node)
        if idx is not None:
            check("model", node, targets, space.models, masks.out_model if idx == w else masks.models[idx])
    for node, targets in update.roles.items():
        idx = pg.node_index(node)
        if idx is not None:
            labels = space.output_roles if idx == w else space.worker_roles
            check("role", node, targets, labels, masks.out_role if idx == w else masks.roles[idx])
    for e in update.edges:
        s, d = pg.node_index(e.src), pg.node_index(e.dst)
        k = pg.edge_index(s, d) if s is not None and d is not None else None
        if k is not None and not masks.edges_free[k]:
            problems.append(f"edge {e.src}->{e.dst} is decided by the stages, not learned: leave it out")
    return problems
