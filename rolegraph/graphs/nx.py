"""`GraphSpec` <-> networkx `DiGraph`, so graphs can be built or analysed with networkx."""

from __future__ import annotations

import copy

import networkx as nx

from rolegraph.errors import GraphError
from rolegraph.graphs.spec import GraphSpec, NodeSpec

DYNAMIC_PARTS = ("fanout", "loops", "mcp_servers")


def to_networkx(spec: GraphSpec) -> nx.DiGraph:
    """Nodes carry `role`, `model`, `params` (a copy); the graph carries `name`, `description`, `output`.

    Node order follows the spec; each edge keeps its spec position in `order`, because edge order is
    the order a node sees its predecessors' outputs. Duplicate edges collapse (a valid spec has none).
    """
    g: nx.DiGraph[str] = nx.DiGraph(name=spec.name, description=spec.description, output=spec.output)
    for key in DYNAMIC_PARTS:  # fan-out, loops and MCP servers ride along as graph attributes (plain dicts)
        if getattr(spec, key):
            g.graph[key] = [item.model_dump(by_alias=True) for item in getattr(spec, key)]
    for node in spec.nodes:
        g.add_node(node.id, role=node.role, model=node.model, params=copy.deepcopy(node.params))
    for i, (src, dst) in enumerate(spec.edges):
        if not g.has_edge(src, dst):
            g.add_edge(src, dst, order=i)
    return g


def from_networkx(g: nx.DiGraph, name: str | None = None) -> GraphSpec:
    """A spec from a DiGraph whose nodes have `role` and `model` attributes (`params` optional).

    Node ids become strings; edges follow their `order` attribute (edges without one come last).
    The name is `name`, else the graph's `name` attribute, else "graph".
    """
    problems = []
    nodes = []
    for node_id, attrs in g.nodes(data=True):
        missing = [key for key in ("role", "model") if not isinstance(attrs.get(key), str)]
        if missing:
            problems.append(f"node '{node_id}': missing attribute(s) {', '.join(missing)}")
            continue
        nodes.append(
            NodeSpec(
                id=str(node_id),
                role=attrs["role"],
                model=attrs["model"],
                params=copy.deepcopy(dict(attrs.get("params") or {})),
            )
        )
    graph_name = name or g.graph.get("name") or "graph"
    if problems:
        raise GraphError(problems, source=f"networkx graph '{graph_name}'")
    output = g.graph.get("output")
    ordered: list[tuple[str, str, object]] = sorted(
        g.edges(data="order"), key=lambda e: (e[2] is None, e[2] if e[2] is not None else 0)
    )
    return GraphSpec(
        name=graph_name,
        description=g.graph.get("description"),
        nodes=nodes,
        edges=[(str(s), str(d)) for s, d, _ in ordered],
        output=str(output) if output is not None else None,
        **{key: copy.deepcopy(g.graph[key]) for key in DYNAMIC_PARTS if g.graph.get(key)},
    )
