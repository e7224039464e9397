"""The default Agent-REINFORCE's anytime pilot: what it scores first, and the mixes it scores once that is in.

1. `anytime_pilot`: per model, the largest graph of that model alone, and one mix of every model.
2. `pair_mixes`, once those are scored: the two models whose pilot graphs scored best, mixed.

Why mixes at all: on the sim's seeded worlds the best graph of the ensemble space mixes two or three
models in about two settings of three (the stored generalization results), while a one-model pilot can
only reach a mix by several one-change steps. Which mix is not assumed: the first is every model once
(the cheapest kept where not all fit), the second is built from the pilot's own scores. Tuned on worlds
4-6 and checked on held-out worlds (BENCHMARKS.md, Generalization).
"""

from __future__ import annotations

from collections.abc import Sequence

from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.optimize.space import OUTPUT_ID, SearchSpace, slot_id
from rolegraph.optimize.stage_pilot import staged_pilot_graphs
from rolegraph.optimize.statistical_common import short_model

PAIR = 2
"""Models in the second stage's mixes: the pilot's best two."""
MIN_ENSEMBLE = 2
"""Solvers in the smallest ensemble `ensemble` tries: one solver feeding a fuser is a refinement, not a vote."""


def fan_in(space: SearchSpace, solvers: list[str], fuser_model: str, name: str) -> GraphSpec:
    """Solvers of the given models (one each, in worker slots) all feeding one fuser of `fuser_model`."""
    fuser = "fuser" if "fuser" in space.output_roles else space.output_roles[0]
    solver = "solver" if "solver" in space.worker_roles else space.worker_roles[0]
    nodes = [NodeSpec(id=slot_id(i), role=solver, model=m) for i, m in enumerate(solvers)]
    nodes.append(NodeSpec(id=OUTPUT_ID, role=fuser, model=fuser_model))
    return GraphSpec(
        name=name, nodes=nodes, edges=[(slot_id(i), OUTPUT_ID) for i in range(len(solvers))], output=OUTPUT_ID
    )


def ensemble(space: SearchSpace, model_id: str) -> GraphSpec | None:
    """The largest k-solver ensemble of `model_id` feeding a `model_id` fuser within budget and slots."""
    best = None
    for k in range(MIN_ENSEMBLE, space.worker_slots + 1):
        spec = fan_in(space, [model_id] * k, model_id, f"vote{k}-{model_id.split('/')[-1]}")
        if not space.fits(spec):
            break
        best = spec
    return best


def anytime_pilot(space: SearchSpace) -> list[tuple[str, GraphSpec]]:
    """(label, graph) per model: the largest graph of that model alone, that is its budget-filling ensemble,
    else its answer refined by a fuser of itself (one solver feeding it), else the model alone (a staged
    space: each model as the whole pipeline, and nothing else). Why the refinement: where no ensemble of a
    large model fits (an 8B at 18 FLOPs units), the model alone leaves half the budget unspent, and its
    two-node chain is more often near the best graph (worlds 4-6: first reach about 30% sooner,
    BENCHMARKS.md). Then one mix, `each_model_once`, where one fits."""
    if space.stages:
        return staged_pilot_graphs(space)
    out = []
    for m in space.models:
        short = short_model(m)
        spec = ensemble(space, m)
        if spec is not None:
            out.append((f"{len(spec.nodes) - 1} x {short} -> {_output_role(spec)}", spec))
            continue
        chain = fan_in(space, [m], m, f"refine-{short}")
        fits = space.fits(chain)
        out.append((f"{short} -> {_output_role(chain)}", chain) if fits else (f"single {short}", space.single(m)))
    mix = each_model_once(space)
    if mix is not None:
        out.append((f"each model once -> {short_model(mix.node(mix.output_id()).model)}", mix))
    return out


def _output_role(spec: GraphSpec) -> str:
    """The role a pilot graph's output node plays (a fuser, or a space's own answering role)."""
    return spec.node(spec.output_id()).role


def each_model_once(space: SearchSpace) -> GraphSpec | None:
    """Every model once as a solver, fused by the costliest model that fits with them; where none does, the
    costliest solver is left out until one does (None below two solvers). Costs, not sizes, order the
    choices: it is the budget the pilot fills, not a belief that larger models are better."""
    by_cost = sorted(space.models, key=lambda m: space.cost(space.single(m)))
    solvers = by_cost[: space.worker_slots]
    while len(solvers) >= PAIR:
        for fuser in reversed(by_cost):
            spec = fan_in(space, solvers, fuser, "each-model-once")
            if space.fits(spec):
                return spec
        solvers = solvers[:-1]
    return None


def pair_mixes(space: SearchSpace, pilot: Sequence[tuple[GraphSpec, float]]) -> list[tuple[str, GraphSpec]]:
    """The second stage, from the pilot's (graph, objective) rows: the two models whose pilot graphs scored
    best (a model is credited with the best score of a pilot graph it is the output of), as a pair of
    solvers and as the budget-filling alternation of them (a, b, a, ...), both fused by the better of the
    two where that fits, else by the other. Empty in a staged space or when fewer than two models scored."""
    if space.stages or space.worker_slots < PAIR:
        return []
    best: dict[str, float] = {}
    for spec, objective in pilot:
        model = spec.node(spec.output_id()).model
        best[model] = max(best.get(model, float("-inf")), objective)
    top = sorted(best, key=lambda m: -best[m])[:PAIR]
    if len(top) < PAIR:
        return []
    for fuser in top:
        pair = fan_in(space, top, fuser, "pair-mix")
        if not space.fits(pair):
            continue
        label = f"{' + '.join(short_model(m) for m in top)} -> {short_model(fuser)}"
        out = [(label, pair)]
        solvers, wide = list(top), None
        while len(solvers) < space.worker_slots:
            longer = [*solvers, top[len(solvers) % PAIR]]
            spec = fan_in(space, longer, fuser, "pair-mix-wide")
            if not space.fits(spec):
                break
            solvers, wide = longer, spec
        if wide is not None:
            out.append((f"{len(solvers)} alternating {label}", wide))
        return out
    return []
