"""Graphs one edit away from a given graph, within the space and the budget: the candidates a feedback
agent weighs beside samples of its distribution.

One edit: another model for one node (worker or output), another role for one node, one worker more
(feeding the output: the paper's advice to grow outward from it) or one fewer, one worker-to-worker
edge toggled. Every model is a neighbour of every other (no order by size is assumed). An edit that
the budget repair would turn into some other graph is left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.choices import Choices, edge_pairs, from_graph, realise
from rolegraph.optimize.space import SearchSpace


def _edits(space: SearchSpace, c: Choices) -> Iterator[Choices]:
    w = space.worker_slots
    present = [i for i in range(w) if c.present[i]]
    free = [i for i in range(w) if not c.present[i]]
    n_models, n_roles = len(space.models), len(space.worker_roles)
    for i in present:
        for m in range(n_models):
            if m != c.models[i]:
                yield replace(c, models=c.models[:i] + (m,) + c.models[i + 1 :])
        for r in range(n_roles):
            if r != c.roles[i]:
                yield replace(c, roles=c.roles[:i] + (r,) + c.roles[i + 1 :])
        yield replace(c, present=c.present[:i] + (False,) + c.present[i + 1 :])
    for m in range(n_models):
        if m != c.out_model:
            yield replace(c, out_model=m)
    for r in range(len(space.output_roles)):
        if r != c.out_role:
            yield replace(c, out_role=r)
    if free:
        slot = free[0]
        pairs = edge_pairs(w, space.worker_edges)
        to_out = [k for k, (i, j) in enumerate(pairs) if i == slot and j == w]
        edges = tuple(True if k in to_out else e for k, e in enumerate(c.edges))
        for m in range(n_models):
            for r in range(n_roles):
                yield Choices(
                    present=c.present[:slot] + (True,) + c.present[slot + 1 :],
                    models=c.models[:slot] + (m,) + c.models[slot + 1 :],
                    roles=c.roles[:slot] + (r,) + c.roles[slot + 1 :],
                    edges=edges,
                    out_model=c.out_model,
                    out_role=c.out_role,
                )
    if space.worker_edges:
        for k, (i, j) in enumerate(edge_pairs(w, True)):
            if j < w and c.present[i] and c.present[j]:
                yield replace(c, edges=c.edges[:k] + (not c.edges[k],) + c.edges[k + 1 :])


def neighbours(space: SearchSpace, spec: GraphSpec) -> list[tuple[Choices, GraphSpec]]:
    """Every in-budget graph one edit away from `spec` (possibly repeating one another; an edit the
    space undoes, such as a judging role for a worker without inputs, is left out)."""
    c = from_graph(space, spec)
    if c is None:
        return []
    same = realise(space, c)[0]
    out = []
    for edited in _edits(space, c):
        fixed, graph = realise(space, edited, "neighbour")
        if not fixed.notes and fixed != same:
            out.append((fixed, graph))
    return out
