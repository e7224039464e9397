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
from rolegraph.optimize.stages import slot_ranges, stage_edges


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
    if space.stages:
        return _normalise_staged(space, c)
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
    if the output node alone is still over, it takes the largest model that fits alone. A staged
    space narrows its stages and then moves to smaller models instead (`_shrink_staged`).
    """
    notes: list[str] = []
    c = _normalise(space, c)
    spec = to_graph(space, c, name)
    while space.stages and not space.fits(spec):
        step = _shrink_staged(space, c)
        if step is None:
            break
        notes.append(step[1])
        c = _normalise(space, step[0])
        spec = to_graph(space, c, name)
    while not space.fits(spec) and not space.stages:
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
    if space.stages:
        return _from_graph_staged(space, spec)
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


# --- staged spaces (rolegraph.optimize.stages) -------------------------------------------------------
def _groups(space: SearchSpace, present: tuple[bool, ...] | list[bool]) -> list[list[int]]:
    """The present worker slots of each stage."""
    return [[i for i in slots if present[i]] for slots in slot_ranges(space.stages)]


def _nearest_model(space: SearchSpace, allowed: list[int], k: int) -> int:
    """`k` if allowed, else the allowed model closest in size (a TPE or mutation draw outside a stage)."""
    if k in allowed:
        return k
    size = space.size(space.models[k])
    return min(allowed, key=lambda a: (abs(space.size(space.models[a]) - size), a))


def _normalise_staged(space: SearchSpace, c: Choices) -> Choices:
    """Widths to the nearest allowed, roles to the stage's, models into the stage's (one per stage
    unless it mixes), edges from the stage order."""
    present, models, roles = list(c.present), list(c.models), list(c.roles)
    for stage, slots in zip(space.stages, slot_ranges(space.stages)):
        on = [i for i in slots if present[i]]
        want = stage.nearest_width(len(on))
        for i in slots:
            if len(on) >= want:
                break
            if not present[i]:
                present[i] = True
                on = sorted([*on, i])
        while len(on) > want:
            present[on.pop()] = False
        role = space.worker_roles.index(stage.role)
        allowed = [space.models.index(m) for m in stage.models]
        for i in slots:
            roles[i] = role
        shared = _nearest_model(space, allowed, models[on[0]]) if on else None
        for i in on:
            models[i] = shared if stage.same_model and shared is not None else _nearest_model(space, allowed, models[i])
    w = space.worker_slots
    wanted = set(stage_edges(_groups(space, present), w))
    edges = tuple(p in wanted for p in edge_pairs(w, space.worker_edges))
    out_model = _nearest_model(space, [space.models.index(m) for m in space.staged_output.models], c.out_model)
    out_role = c.out_role
    out_roles = space.output_roles
    if not any(j == w for _i, j in wanted) and out_roles[out_role] in INPUT_ROLES and FALLBACK_ROLE in out_roles:
        out_role = out_roles.index(FALLBACK_ROLE)
    return replace(
        c,
        present=tuple(present),
        models=tuple(models),
        roles=tuple(roles),
        edges=edges,
        out_model=out_model,
        out_role=out_role,
    )


def _shrink_staged(space: SearchSpace, c: Choices) -> tuple[Choices, str] | None:
    """One repair step of an over-budget staged graph: narrow the stage with the smallest model to its
    next allowed width; when no stage can narrow, move the largest model (a stage's or the output's)
    to the next smaller one its stage allows. None when the graph is already the smallest."""
    size = lambda k: space.size(space.models[k])  # noqa: E731
    groups = _groups(space, c.present)
    narrow = [s for s, (st, on) in enumerate(zip(space.stages, groups)) if on and st.widths[0] < len(on)]
    if narrow:
        s = min(narrow, key=lambda t: (min(size(c.models[i]) for i in groups[t]), -t))
        stage, on = space.stages[s], groups[s]
        new_w = max(x for x in stage.widths if x < len(on))
        flags = list(c.present)
        for i in on[new_w:]:
            flags[i] = False
        return replace(c, present=tuple(flags)), f"stage {stage.name}: width {len(on)} -> {new_w} (budget)"
    options = []  # (current size, which, allowed smaller model)
    for s, (stage, on) in enumerate(zip(space.stages, groups)):
        for i in on:
            smaller = [space.models.index(m) for m in stage.models if size(space.models.index(m)) < size(c.models[i])]
            if smaller:
                options.append((size(c.models[i]), s, i, max(smaller, key=size)))
    smaller = [
        space.models.index(m) for m in space.staged_output.models if size(space.models.index(m)) < size(c.out_model)
    ]
    if smaller:
        options.append((size(c.out_model), len(space.stages), -1, max(smaller, key=size)))
    if not options:
        return None
    _, s, i, new = max(options, key=lambda t: (t[0], t[1]))
    if i < 0:
        note = f"output model {space.models[c.out_model]} -> {space.models[new]} (budget)"
        return replace(c, out_model=new), note
    models = list(c.models)
    for j in groups[s] if space.stages[s].same_model else [i]:
        models[j] = new
    return replace(
        c, models=tuple(models)
    ), f"stage {space.stages[s].name}: {space.models[c.models[i]]} -> {space.models[new]} (budget)"


def _from_graph_staged(space: SearchSpace, spec: GraphSpec) -> Choices | None:
    """Map a graph onto the stages: workers grouped by depth, depths matched to stages in order (a
    stage whose widths allow 0 may be skipped); None unless the staged graph rebuilt from the match is
    isomorphic to `spec`."""
    import networkx as nx

    from rolegraph.graphs.isomorphism import isomorphic
    from rolegraph.graphs.nx import to_networkx

    try:
        out = spec.output_id()
    except ValueError:
        return None
    g = to_networkx(spec)
    if not nx.is_directed_acyclic_graph(g):
        return None
    depth: dict[str, int] = {}
    for n in nx.topological_sort(g):
        if n != out:
            depth[n] = 1 + max((depth[p] for p in g.predecessors(n) if p in depth), default=-1)
    layers = [
        [n for n in spec.node_ids if n in depth and depth[n] == d] for d in range(max(depth.values(), default=-1) + 1)
    ]
    stages = space.stages

    def fits(layer: list[str], stage) -> bool:
        ms = {spec.node(n).model for n in layer}
        return (
            all(spec.node(n).role == stage.role for n in layer)
            and len(layer) in stage.widths
            and ms <= set(stage.models)
            and (len(ms) == 1 or not stage.same_model)
        )

    def assign(li: int, si: int) -> list[int] | None:
        if li == len(layers):
            return [] if all(st.widths[0] == 0 for st in stages[si:]) else None
        for t in range(si, len(stages)):
            if fits(layers[li], stages[t]):
                rest = assign(li + 1, t + 1)
                if rest is not None:
                    return [t, *rest]
            if stages[t].widths[0] > 0:  # a stage that cannot be empty cannot be skipped
                break
        return None

    match = assign(0, 0)
    node = spec.node(out)
    if match is None or node.model not in space.models or node.role not in space.output_roles:
        return None
    w = space.worker_slots
    present, models = [False] * w, [0] * w
    for layer, t in zip(layers, match):
        slots = slot_ranges(stages)[t]
        for k, n in enumerate(layer):
            present[slots[k]] = True
            models[slots[k]] = space.models.index(spec.node(n).model)
    c = Choices(
        present=tuple(present),
        models=tuple(models),
        roles=tuple([0] * w),
        edges=tuple(False for _ in edge_pairs(w, space.worker_edges)),
        out_model=space.models.index(node.model),
        out_role=space.output_roles.index(node.role),
    )
    c = _normalise_staged(space, c)
    return c if isomorphic(to_graph(space, c), spec) else None
