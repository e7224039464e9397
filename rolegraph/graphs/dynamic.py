"""The structure of a graph's dynamic parts: fan-out groups and loop groups, their checks, and the
worst-case static graph that estimates use.

A fan-out group is a set of nodes copied once per item of its source node's list output (at most
`max_fanout` copies). A loop group is the set of nodes a back edge re-runs: for a back edge
`from -> to`, the nodes on paths from `to` to `from` (both included); back edges whose groups
share a node form one group, which runs in rounds with one bound. A loop edge must point back:
`to != from`, `from` does not lead to `to`, and `to` leads to `from` through the plain edges, or
through other loop edges as in a debate (`a -> b`, `b -> a`); otherwise `from` would re-run on the
same inputs every round. Both kinds of group are closed under "lies on a path between two of its
nodes", so collapsing a group to one unit keeps the graph acyclic: that is what lets the runtime
launch groups like nodes.

Bounded by construction: the plain edges must form a DAG (validate.py refuses any cycle there) and
every back edge carries `max_rounds`, so no run can loop forever. `worst_case(spec)` unrolls every
loop to its bound and copies every fan-out group to its cap: FLOPs, dollar and token estimates
read that graph, while the budget meter counts what a run actually spawns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from itertools import product

import networkx as nx

from rolegraph.errors import did_you_mean
from rolegraph.graphs.spec import FanoutSpec, GraphSpec, LoopSpec, NodeSpec

RESERVED_ID_CHARS = "[]@"
"""The characters `copy_id` and `round_id` add to a node id: validation refuses them in a graph's own ids,
since a node named `s[1]` or `s@1` would be taken for a copy or round of `s` (and silently replaced)."""

ListFields = Callable[[str], Collection[str] | None]
"""A role name's list fields (the parsed fields a fan-out's `over` may name), or None when they are unknown."""


def no_known_fields(role: str) -> Collection[str] | None:
    return None


def copy_id(node: str, copy: int) -> str:
    """The trace id of copy `copy` (1-based) of a fan-out node."""
    return f"{node}[{copy}]"


def round_id(node: str, round_no: int) -> str:
    """The trace id of round `round_no` (1-based) of a loop node."""
    return f"{node}@{round_no}"


@dataclass(frozen=True)
class FanoutGroup:
    key: str
    source: str
    nodes: tuple[str, ...]  # topological order
    max_fanout: int
    over: str


@dataclass(frozen=True)
class LoopGroup:
    key: str
    nodes: tuple[str, ...]  # topological order
    back: tuple[tuple[str, str], ...]  # (from, to) back edges, in file order
    max_rounds: int
    until: str
    sees: str

    def label(self) -> str:
        return ", ".join(f"{s} -> {d}" for s, d in self.back)


@dataclass(frozen=True)
class Dynamics:
    """The groups of a valid graph and, per grouped node, its group's key."""

    fanouts: tuple[FanoutGroup, ...]
    loops: tuple[LoopGroup, ...]
    group_of: Mapping[str, str]

    def group(self, key: str) -> FanoutGroup | LoopGroup:
        groups: tuple[FanoutGroup | LoopGroup, ...] = (*self.fanouts, *self.loops)
        for g in groups:
            if g.key == key:
                return g
        raise KeyError(key)


def _dag(spec: GraphSpec) -> nx.DiGraph:
    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(spec.node_ids)
    g.add_edges_from((s, d) for s, d in spec.edges if s != d)
    return g


def _between(g: nx.DiGraph, nodes: set[str]) -> set[str]:
    """`nodes` closed under "lies on a path between two of them"."""
    closed = set(nodes)
    while True:
        down = set().union(*(nx.descendants(g, n) for n in closed))
        up = set().union(*(nx.ancestors(g, n) for n in closed))
        grown = closed | (down & up)
        if grown == closed:
            return closed
        closed = grown


def _ordered(g: nx.DiGraph, nodes: Iterable[str], order: Mapping[str, int]) -> tuple[str, ...]:
    sub = g.subgraph(nodes)
    return tuple(nx.lexicographical_topological_sort(sub, key=order.__getitem__))


def _loop_bodies(g: nx.DiGraph, loops: list[LoopSpec]) -> list[tuple[set[str], list[int]]]:
    """Merged bodies and the indexes of the back edges that made each."""
    bodies: list[tuple[set[str], list[int]]] = []
    for i, loop in enumerate(loops):
        body = {loop.source, loop.target} | (nx.descendants(g, loop.target) & nx.ancestors(g, loop.source))
        bodies.append((body, [i]))
    merged = True
    while merged:
        merged = False
        for a in range(len(bodies)):
            for b in range(a + 1, len(bodies)):
                if bodies[a][0] & bodies[b][0]:
                    bodies[a] = (_between(g, bodies[a][0] | bodies[b][0]), bodies[a][1] + bodies[b][1])
                    del bodies[b]
                    merged = True
                    break
            if merged:
                break
    return [(_between(g, body), idx) for body, idx in bodies]


def _fanout_label(f: FanoutSpec) -> str:
    return f"fanout from '{f.source}'"


def _over_problem(f: FanoutSpec, role: str, list_fields: ListFields) -> str | None:
    """`over` must name a list its source's parser produces, or every run falls back to one copy; a role
    whose fields are unknown (a user's parser) passes, and the run's note says when nothing was listed."""
    fields = list_fields(role)
    if fields is None or f.over in fields:
        return None
    label = _fanout_label(f)
    if not fields:
        return f"{label}: role '{role}' produces no list to fan out over (over: {f.over}); fan out from a planner"
    return f"{label}: over '{f.over}' is not a list role '{role}' produces.{did_you_mean(f.over, fields)}"


def _fanout_problems(spec: GraphSpec, g: nx.DiGraph, ids: set[str], list_fields: ListFields) -> list[str]:
    problems: list[str] = []
    seen: dict[str, str] = {}
    output = spec.output_id() if _single_output(spec) else spec.output
    for f in spec.fanout:
        label = _fanout_label(f)
        bad = [n for n in [f.source, *f.nodes] if n not in ids]
        for n in dict.fromkeys(bad):
            problems.append(f"{label}: unknown node '{n}'.{did_you_mean(n, ids)}")
        if bad:
            continue
        if len(set(f.nodes)) != len(f.nodes):
            problems.append(f"{label}: a node is listed twice in 'nodes'")
        if f.source in f.nodes:
            problems.append(f"{label}: the source cannot be one of the copied nodes")
            continue
        for n in dict.fromkeys(f.nodes):  # a node listed twice is one problem (above), not also "copied by" itself
            if n in seen:
                problems.append(f"{label}: node '{n}' is already copied by {seen[n]}")
            seen[n] = label
        if not any(g.has_edge(f.source, n) for n in f.nodes):
            problems.append(f"{label}: no copied node reads '{f.source}' (add an edge [{f.source}, {f.nodes[0]}])")
        extra = _between(g, set(f.nodes)) - set(f.nodes)
        if extra:
            problems.append(f"{label}: node '{sorted(extra)[0]}' lies between copied nodes; copy it too")
        if output in f.nodes:
            problems.append(f"{label}: the output '{output}' cannot be copied (its copies would be several answers)")
        over = _over_problem(f, spec.node(f.source).role, list_fields)
        if over is not None:
            problems.append(over)
    return problems


def _single_output(spec: GraphSpec) -> bool:
    try:
        spec.output_id()
    except ValueError:
        return False
    return True


def _not_back(g: nx.DiGraph, usable: list[LoopSpec]) -> list[str]:
    """Drop from `usable` (and report) each loop edge whose target does not lead back to its source through
    the plain edges and the loop edges still kept (repeated until none is dropped: a dropped edge leads nowhere)."""
    problems = []
    dropped = True
    while dropped:
        dropped = False
        back = g.copy()
        back.add_edges_from((lp.source, lp.target) for lp in usable)
        for loop in usable:
            if not nx.has_path(back, loop.target, loop.source):
                usable.remove(loop)
                dropped = True
                problems.append(
                    f"loop {loop.source} -> {loop.target}: not a back edge (nothing leads from '{loop.target}' to "
                    f"'{loop.source}' through the edges or other loops, so '{loop.source}' would re-run on the same "
                    "inputs); a loop edge goes back from a later node to an earlier one"
                )
                break
    return problems


def _loop_problems(spec: GraphSpec, g: nx.DiGraph, ids: set[str]) -> list[str]:
    problems: list[str] = []
    usable: list[LoopSpec] = []
    counts = Counter((loop.source, loop.target) for loop in spec.loops)
    seen: set[tuple[str, str]] = set()
    for loop in spec.loops:
        label = f"loop {loop.source} -> {loop.target}"
        if (loop.source, loop.target) in seen:
            continue  # a repeat is reported once, with its count, below; the runtime would feed it back twice
        seen.add((loop.source, loop.target))
        if counts[(loop.source, loop.target)] > 1:
            problems.append(f"{label}: listed {counts[(loop.source, loop.target)]} times")
        bad = [n for n in dict.fromkeys((loop.source, loop.target)) if n not in ids]
        for n in bad:
            problems.append(f"{label}: unknown node '{n}'.{did_you_mean(n, ids)}")
        if bad:
            continue
        if loop.source == loop.target:
            problems.append(f"{label}: self-loop (a node cannot feed itself)")
        elif g.has_edge(loop.source, loop.target):
            problems.append(f"{label}: also a plain edge; a loop edge goes back from a later node to an earlier one")
        elif nx.has_path(g, loop.source, loop.target):
            problems.append(
                f"{label}: '{loop.target}' already follows '{loop.source}' through the edges; "
                "a loop edge goes back from a later node to an earlier one"
            )
        else:
            usable.append(loop)
    problems += _not_back(g, usable)
    fanned = {n for f in spec.fanout for n in f.nodes}
    for body, idx in _loop_bodies(g, usable):
        group = [usable[i] for i in idx]
        label = "loop " + ", ".join(f"{lp.source} -> {lp.target}" for lp in group)
        bounds = {(lp.max_rounds, lp.until, lp.sees) for lp in group}
        if len(bounds) > 1:
            problems.append(f"{label}: these back edges share nodes, so they must agree on max_rounds, until and sees")
        both = sorted(body & fanned)
        if both:
            problems.append(f"{label}: node '{both[0]}' is also in a fan-out group (loops and fan-out cannot nest)")
    return problems


def dynamic_problems(spec: GraphSpec, list_fields: ListFields = no_known_fields) -> list[str]:
    """One line per problem of the graph's fan-out and loop groups (call when the plain edges are a DAG).

    `list_fields(role)` names the lists a role's parser produces, which a fan-out's `over` is checked against."""
    if not spec.dynamic:
        return []
    g = _dag(spec)
    ids = set(spec.node_ids)
    return _fanout_problems(spec, g, ids, list_fields) + _loop_problems(spec, g, ids)


def dynamics(spec: GraphSpec) -> Dynamics:
    """The groups of a valid graph (validation has refused anything these steps would trip on)."""
    g = _dag(spec)
    order = {n: i for i, n in enumerate(spec.node_ids)}
    fanouts = tuple(
        FanoutGroup(f"fanout{i + 1}", f.source, _ordered(g, f.nodes, order), f.max_fanout, f.over)
        for i, f in enumerate(spec.fanout)
    )
    loops = []
    for i, (body, idx) in enumerate(_loop_bodies(g, list(spec.loops))):
        first = spec.loops[idx[0]]
        back = tuple((spec.loops[j].source, spec.loops[j].target) for j in sorted(idx))
        loops.append(
            LoopGroup(f"loop{i + 1}", _ordered(g, body, order), back, first.max_rounds, first.until, first.sees)
        )
    group_of = {n: f.key for f in fanouts for n in f.nodes} | {n: lp.key for lp in loops for n in lp.nodes}
    return Dynamics(fanouts, tuple(loops), group_of)


def _instances(dyn: Dynamics, node: str) -> list[str]:
    key = dyn.group_of.get(node)
    if key is None:
        return [node]
    group = dyn.group(key)
    if isinstance(group, FanoutGroup):
        return [copy_id(node, i) for i in range(1, group.max_fanout + 1)]
    return [round_id(node, r) for r in range(1, group.max_rounds + 1)]


def _exits(dyn: Dynamics, node: str) -> list[str]:
    """The instances a node outside its group reads: every copy, or the last round."""
    key = dyn.group_of.get(node)
    inst = _instances(dyn, node)
    return inst if key is None or isinstance(dyn.group(key), FanoutGroup) else inst[-1:]


def worst_case(spec: GraphSpec) -> GraphSpec:
    """The static graph of the largest run: every fan-out group at `max_fanout` copies, every loop at
    `max_rounds` rounds (with `sees: all`, round r reads all r-1 earlier rounds). A static graph comes
    back unchanged."""
    if not spec.dynamic:
        return spec
    dyn = dynamics(spec)
    nodes = [
        NodeSpec(id=i, role=n.role, model=n.model, params=dict(n.params))
        for n in spec.nodes
        for i in _instances(dyn, n.id)
    ]
    edges: list[tuple[str, str]] = []
    for u, v in spec.edges:
        same = dyn.group_of.get(u) is not None and dyn.group_of.get(u) == dyn.group_of.get(v)
        if same:
            edges += list(zip(_instances(dyn, u), _instances(dyn, v)))
        else:
            edges += list(product(_exits(dyn, u), _instances(dyn, v)))
    for loop in dyn.loops:
        for src, dst in loop.back:
            for r in range(2, loop.max_rounds + 1):
                earlier = range(1, r) if loop.sees == "all" else [r - 1]
                edges += [(round_id(src, k), round_id(dst, r)) for k in earlier]
    output = spec.output_id()
    return GraphSpec(
        name=spec.name,
        description=spec.description,
        nodes=nodes,
        edges=list(dict.fromkeys(edges)),
        output=_exits(dyn, output)[-1],
    )


def describe(spec: GraphSpec) -> str:
    """One line on what the graph may spawn or repeat (empty for a static graph)."""
    parts = [f"'{f.source}' spawns up to {f.max_fanout} x [{', '.join(f.nodes)}]" for f in spec.fanout]
    parts += [f"loop {lp.source} -> {lp.target} at most {lp.max_rounds} rounds (until {lp.until})" for lp in spec.loops]
    return "; ".join(parts)
