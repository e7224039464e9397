"""`Choices`: one point of the search space (slots, models, roles, edges), and how it becomes a
valid `GraphSpec`.

Worker slots are ordered and edges only go from a lower slot to a higher one (or to the output),
so every graph is acyclic by construction. `realise` repairs the rest: judging roles without
inputs act as solvers, every worker reaches the output, and a graph over budget drops its
smallest-model worker first (the paper's repair) until it fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.optimize.space import FALLBACK_ROLE, INPUT_ROLES, OUTPUT_ID, SearchSpace, slot_id


def edge_pairs(slots: int, worker_edges: bool = True) -> list[tuple[int, int]]:
    """Every allowed edge as (src, dst) slot indices; dst == slots means the output node."""
    pairs = [(i, j) for j in range(slots) for i in range(j)] if worker_edges else []
    return pairs + [(i, slots) for i in range(slots)]


@dataclass(frozen=True)
class Choices:
    """Indices into the space: models/roles per slot (meaningful only where `present`)."""

    present: tuple[bool, ...]
    models: tuple[int, ...]
    roles: tuple[int, ...]
    edges: tuple[bool, ...]  # aligned with edge_pairs(...)
    out_model: int
    out_role: int
    notes: tuple[str, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict:
        return {
            "present": [int(p) for p in self.present],
            "models": list(self.models),
            "roles": list(self.roles),
            "edges": [int(e) for e in self.edges],
            "out_model": self.out_model,
            "out_role": self.out_role,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Choices:
        return cls(
            present=tuple(bool(p) for p in data["present"]),
            models=tuple(int(m) for m in data["models"]),
            roles=tuple(int(r) for r in data["roles"]),
            edges=tuple(bool(e) for e in data["edges"]),
            out_model=int(data["out_model"]),
            out_role=int(data["out_role"]),
        )


def _normalise(space: SearchSpace, c: Choices) -> Choices:
    """Clear edges touching absent slots, connect sinks to the output, fix roles that need inputs."""
    slots = space.worker_slots
    pairs = edge_pairs(slots, space.worker_edges)
    present = list(c.present)
    edges = [bool(e) and present[i] and (j == slots or present[j]) for (i, j), e in zip(pairs, c.edges)]
    has_succ = [False] * slots
    for (i, _j), e in zip(pairs, edges):
        if e:
            has_succ[i] = True
    for k, (i, j) in enumerate(pairs):
        if j == slots and present[i] and not has_succ[i]:
            edges[k] = True  # grow toward the output: a sink worker feeds it
    has_pred = [False] * (slots + 1)
    for (_i, j), e in zip(pairs, edges):
        if e:
            has_pred[j] = True
    roles = list(c.roles)
    worker_roles = space.worker_roles
    fallback = worker_roles.index(FALLBACK_ROLE) if FALLBACK_ROLE in worker_roles else None
    for i in range(slots):
        if present[i] and worker_roles[roles[i]] in INPUT_ROLES and not has_pred[i] and fallback is not None:
            roles[i] = fallback
    out_role = c.out_role
    out_roles = space.output_roles
    if not has_pred[slots] and out_roles[out_role] in INPUT_ROLES and FALLBACK_ROLE in out_roles:
        out_role = out_roles.index(FALLBACK_ROLE)
    return replace(c, edges=tuple(edges), roles=tuple(roles), out_role=out_role)


def to_graph(space: SearchSpace, c: Choices, name: str = "graph") -> GraphSpec:
    """The GraphSpec of already-normalised choices (no repair)."""
    slots = space.worker_slots
    nodes = [
        NodeSpec(id=slot_id(i), role=space.worker_roles[c.roles[i]], model=space.models[c.models[i]])
        for i in range(slots)
        if c.present[i]
    ]
    nodes.append(NodeSpec(id=OUTPUT_ID, role=space.output_roles[c.out_role], model=space.models[c.out_model]))
    edges = [
        (slot_id(i), OUTPUT_ID if j == slots else slot_id(j))
        for (i, j), e in zip(edge_pairs(slots, space.worker_edges), c.edges)
        if e
    ]
    return GraphSpec(name=name, nodes=nodes, edges=edges, output=OUTPUT_ID)


def realise(space: SearchSpace, c: Choices, name: str = "graph") -> tuple[Choices, GraphSpec]:
    """Repair `c` into a valid in-budget graph; returns the repaired choices and their graph.

    Over budget: drop the present worker with the smallest model (ties: the latest slot), repeat;
    if the output node alone is still over, it takes the largest model that fits alone.
    """
    notes: list[str] = []
    c = _normalise(space, c)
    spec = to_graph(space, c, name)
    while not space.fits(spec):
        present = [i for i in range(space.worker_slots) if c.present[i]]
        if not present:
            fitting = [k for k, m in enumerate(space.models) if space.fits(space.single(m))]
            best = max(fitting, key=lambda k: space.size(space.models[k]))
            notes.append(f"output model {space.models[c.out_model]} -> {space.models[best]} (budget)")
            c = _normalise(space, replace(c, out_model=best))
            spec = to_graph(space, c, name)
            break
        drop = min(present, key=lambda i: (space.size(space.models[c.models[i]]), -i))
        notes.append(f"dropped {slot_id(drop)} ({space.models[c.models[drop]]}) over budget")
        flags = list(c.present)
        flags[drop] = False
        c = _normalise(space, replace(c, present=tuple(flags)))
        spec = to_graph(space, c, name)
    return replace(c, notes=tuple(notes)), spec


def from_graph(space: SearchSpace, spec: GraphSpec) -> Choices | None:
    """Map a graph onto the slots (workers in topological order); None if it does not fit the space.

    Lets a proposed graph (from a feedback agent, a pilot, a file) take part in updates.
    """
    import networkx as nx

    from rolegraph.graphs.nx import to_networkx

    try:
        out = spec.output_id()
    except ValueError:
        return None
    g = to_networkx(spec)
    if not nx.is_directed_acyclic_graph(g):
        return None
    order = {n: k for k, n in enumerate(spec.node_ids)}
    workers = [n for n in nx.lexicographical_topological_sort(g, key=order.__getitem__) if n != out]
    if len(workers) > space.worker_slots:
        return None
    index = {n: k for k, n in enumerate(workers)}
    index[out] = space.worker_slots
    slots = space.worker_slots
    try:
        models = [space.models.index(spec.node(n).model) for n in workers]
        roles = [space.worker_roles.index(spec.node(n).role) for n in workers]
        out_model = space.models.index(spec.node(out).model)
        out_role = space.output_roles.index(spec.node(out).role)
    except ValueError:
        return None
    wanted = {(index[s], index[d]) for s, d in spec.edges}
    pairs = edge_pairs(slots, space.worker_edges)
    if not wanted <= set(pairs):
        return None
    pad = slots - len(workers)
    return Choices(
        present=tuple([True] * len(workers) + [False] * pad),
        models=tuple(models + [0] * pad),
        roles=tuple(roles + [0] * pad),
        edges=tuple(p in wanted for p in pairs),
        out_model=out_model,
        out_role=out_role,
    )
