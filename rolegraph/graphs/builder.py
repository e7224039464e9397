"""A fluent Python builder for `GraphSpec`, for graphs written in code rather than YAML.

spec = (Graph("vote3")
        .node("a", "solver", "sim/llama-3.2-3b")
        .node("b", "solver", "sim/llama-3.2-3b")
        .node("f", "fuser", "sim/llama-3.1-8b", temperature=0.2)
        .fan_in(["a", "b"], "f")
        .build(pool))
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeGuard

from rolegraph.agents.registry import RoleRegistry
from rolegraph.errors import GraphError
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.graphs.validate import check_graph
from rolegraph.models.pool import ModelPool

UNKNOWN_ROLE = "unknown role '"  # how validate.py words an unknown role's problem
REGISTERED_ROLE_HINT = " A role you registered: pass its registry, build(pool, roles=registry)."


class Graph:
    """Collects nodes and edges in call order; `build()` validates and returns the `GraphSpec`.

    Mistakes (duplicate ids, dangling edges, cycles...) are all reported together by `build()`.
    """

    def __init__(self, name: str = "graph", description: str | None = None):
        self.name = name
        self.description = description
        self._nodes: list[NodeSpec] = []
        self._edges: list[tuple[str, str]] = []
        self._output: str | None = None

    def node(self, node_id: str, role: str, model: str, **params: Any) -> Graph:
        """Add a node; keyword arguments become its params (temperature=..., max_tokens=..., tools=[...])."""
        self._nodes.append(NodeSpec(id=node_id, role=role, model=model, params=params))
        return self

    def edge(self, src: str, dst: str) -> Graph:
        self._edges.append((src, dst))
        return self

    def edges(self, *pairs: tuple[str, str] | Iterable[tuple[str, str]]) -> Graph:
        """`.edges(("a", "f"), ("b", "f"))` or `.edges([("a", "f"), ("b", "f")])`."""
        given: Iterable[object] = pairs
        if len(pairs) == 1 and not _is_pair(pairs[0]):
            given = tuple(pairs[0])
        for pair in given:
            if not _is_pair(pair):
                raise TypeError(f"an edge is a (src, dst) pair of node ids, got {pair!r}")
            src, dst = pair
            self.edge(src, dst)
        return self

    def chain(self, *node_ids: str | Iterable[str]) -> Graph:
        """Edges a -> b -> c ... along the given ids: `.chain("a", "b", "c")` or `.chain(["a", "b", "c"])`."""
        given: Iterable[object] = node_ids
        if len(node_ids) == 1 and not isinstance(node_ids[0], str):
            given = node_ids[0]  # one list of ids: without this it made no edge at all
        ids: list[str] = []
        for node_id in given:
            if not isinstance(node_id, str):
                raise TypeError(f"chain takes node ids (str), got {node_id!r}")
            ids.append(node_id)
        for src, dst in zip(ids, ids[1:]):
            self.edge(src, dst)
        return self

    def fan_in(self, sources: Iterable[str], dst: str) -> Graph:
        """An edge from every source into `dst` (e.g. solvers into a fuser)."""
        for src in _ids(sources, "fan_in", "sources"):
            self.edge(src, dst)
        return self

    def fan_out(self, src: str, targets: Iterable[str]) -> Graph:
        """An edge from `src` into every target (e.g. a planner into searchers)."""
        for dst in _ids(targets, "fan_out", "targets"):
            self.edge(src, dst)
        return self

    def output(self, node_id: str) -> Graph:
        self._output = node_id
        return self

    def spec(self) -> GraphSpec:
        """The spec as collected, without validation."""
        return GraphSpec(
            name=self.name,
            description=self.description,
            nodes=list(self._nodes),
            edges=list(self._edges),
            output=self._output,
        )

    def build(self, pool: ModelPool | None = None, roles: RoleRegistry | Iterable[str] | None = None) -> GraphSpec:
        """The validated spec (`GraphError` lists every problem). `pool=None` skips the model check.

        `roles`: the registry the graph will run with (the one passed to `run_graph`), or its role names; None
        knows the built-in roles only. A registry iterates over its `Role`s, not their names, so it is read by
        `names()` here (taken as ids, it failed with a TypeError comparing two Roles)."""
        if isinstance(roles, RoleRegistry):
            roles = roles.names()
        known_roles = None if roles is None else _ids(roles, "build", "roles")
        try:
            return check_graph(self.spec(), pool=pool, roles=known_roles, source=f"graph '{self.name}'")
        except GraphError as exc:
            if roles is not None:
                raise
            # without `roles` only the built-in roles are known: a role registered in Python needs its registry
            problems = list(exc.problems)
            first = next((i for i, p in enumerate(problems) if UNKNOWN_ROLE in p), None)
            if first is None:
                raise
            problems[first] += REGISTERED_ROLE_HINT  # said once, at the first unknown role
            raise GraphError(problems, source=exc.source) from None


def _is_pair(value: object) -> TypeGuard[tuple[str, str] | list[str]]:
    return isinstance(value, tuple | list) and len(value) == 2 and all(isinstance(x, str) for x in value)


def _ids(value: Iterable[str], method: str, what: str) -> list[str]:
    """The ids of a list argument; a bare str would be iterated as one id per character, so it is refused."""
    if isinstance(value, str):
        raise TypeError(f"{method}: {what} must be a list of ids, got the string '{value}': pass [{value!r}]")
    return list(value)
