"""Graph identity up to renaming: the same roles, models and edges under other node ids.

`graph_hash` names a graph by its node ids, so a search that samples one structure in other slots
gets a new hash each time and would split its evidence over the copies. `StructureIndex` maps every
graph to the first isomorphic graph it has seen (a Weisfeiler-Lehman hash picks the bucket, an exact
isomorphism check decides), so evidence on a structure pools under one hash; `Shape` is the same
identity as a hashable value (dict keys, sets). Like `graph_hash`, identity ignores edge order, the
graph's name and description; loops and fan-outs are part of it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable

import networkx as nx

from rolegraph.graphs.io import graph_hash
from rolegraph.graphs.spec import GraphSpec

WL_ITERATIONS = 3
"""Refinement rounds of the bucket hash: enough to tell apart the shallow DAGs searches produce."""
LABEL = "label"


def _labelled(spec: GraphSpec) -> nx.DiGraph:
    """A DiGraph whose node label is everything but the id: role, model, params, is-output."""
    try:
        out = spec.output_id()
    except ValueError:
        out = None
    g: nx.DiGraph[str] = nx.DiGraph()
    for node in spec.nodes:
        params = json.dumps(node.params, sort_keys=True, default=str, ensure_ascii=False)
        g.add_node(node.id, **{LABEL: f"{node.role}|{node.model}|{params}|{int(node.id == out)}"})
    g.add_edges_from(spec.edges)
    _add_dynamic(g, spec)
    return g


def _add_dynamic(g: nx.DiGraph, spec: GraphSpec) -> None:
    """A graph's loops and fan-outs as labelled nodes of their own (a loop: its `from` -> it -> its `to`; a fan-out:
    its `from` -> it -> each node it copies), so a looped graph and the same graph without its loop are two
    structures (they were one: the evidence of both pooled under one hash). Their ids are tuples, which no graph
    node id (a string) can equal; a static graph gets none, so its key is what it always was."""
    for i, loop in enumerate(spec.loops):
        rest = loop.model_dump(mode="json", by_alias=True, exclude={"source", "target"})
        g.add_node(("loop", i), **{LABEL: "loop|" + json.dumps(rest, sort_keys=True, ensure_ascii=False)})
        g.add_edge(loop.source, ("loop", i))
        g.add_edge(("loop", i), loop.target)
    for i, fan in enumerate(spec.fanout):
        rest = fan.model_dump(mode="json", by_alias=True, exclude={"source", "nodes"})
        g.add_node(("fanout", i), **{LABEL: "fanout|" + json.dumps(rest, sort_keys=True, ensure_ascii=False)})
        g.add_edge(fan.source, ("fanout", i))
        g.add_edges_from((("fanout", i), node) for node in fan.nodes)


def structure_key(spec: GraphSpec) -> str:
    """Equal for isomorphic graphs; rarely equal for others (then `isomorphic` decides).

    Keys are compared within one process or one cache fingerprint, so networkx's note that its
    directed hashes changed in 3.5 does not concern them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return nx.weisfeiler_lehman_graph_hash(_labelled(spec), node_attr=LABEL, iterations=WL_ITERATIONS)


def _match(g: nx.DiGraph, h: nx.DiGraph) -> bool:
    return nx.is_isomorphic(g, h, node_match=nx.algorithms.isomorphism.categorical_node_match(LABEL, None))


def isomorphic(a: GraphSpec, b: GraphSpec) -> bool:
    """True when renaming node ids (and reordering edges) turns one graph into the other."""
    return _match(_labelled(a), _labelled(b))


class Shape:
    """A graph up to isomorphism, as a dict key or set member: hashed by its Weisfeiler-Lehman hash
    (the bucket), compared by an exact isomorphism check, so two different graphs whose hashes collide
    stay two keys. `str(shape)` is the bucket hash (for display only: it does not identify the graph)."""

    __slots__ = ("spec", "key", "_graph")

    def __init__(self, spec: GraphSpec) -> None:
        self.spec = spec
        self.key = structure_key(spec)
        self._graph: nx.DiGraph | None = None

    @property
    def graph(self) -> nx.DiGraph:
        if self._graph is None:
            self._graph = _labelled(self.spec)
        return self._graph

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Shape):
            return NotImplemented
        return self is other or (self.key == other.key and _match(self.graph, other.graph))

    def __repr__(self) -> str:
        return f"Shape({self.spec.name!r}, {self.key[:12]})"

    def __str__(self) -> str:
        return self.key


class StructureIndex:
    """Canonical hashes: each graph maps to the `graph_hash` of the first isomorphic graph added."""

    def __init__(self, specs: Iterable[GraphSpec] = ()) -> None:
        self._buckets: dict[str, list[tuple[nx.DiGraph, str]]] = {}
        self._known: dict[str, str] = {}
        self._structures = 0
        for spec in specs:
            self.canonical(spec)

    def __len__(self) -> int:
        return self._structures

    def find(self, spec: GraphSpec) -> str | None:
        """The canonical hash of a graph isomorphic to `spec`, or None if there is none yet."""
        h = graph_hash(spec)
        if h in self._known:
            return self._known[h]
        g = _labelled(spec)
        for other, canon in self._buckets.get(structure_key(spec), ()):
            if _match(g, other):
                self._known[h] = canon
                return canon
        return None

    def canonical(self, spec: GraphSpec) -> str:
        """`spec`'s canonical hash; a graph unlike every one seen becomes its own canonical form."""
        found = self.find(spec)
        if found is not None:
            return found
        h = graph_hash(spec)
        self._buckets.setdefault(structure_key(spec), []).append((_labelled(spec), h))
        self._known[h] = h
        self._structures += 1
        return h

    def is_new(self, spec: GraphSpec) -> bool:
        """Add `spec`; True if no isomorphic graph was there before."""
        before = len(self)
        self.canonical(spec)
        return len(self) > before
