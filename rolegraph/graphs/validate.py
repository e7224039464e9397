"""Semantic checks of a `GraphSpec`: one message per problem, each naming the node or edge.

Structure (types, required fields) is pydantic's job in `spec.py`/`io.py`; this module checks
what makes a well-typed graph unusable: unknown roles and models, broken edges, cycles, an
ambiguous output, and nodes whose work could never reach the answer. A cycle among the plain edges
is unbounded and always refused: a loop is declared under `loops:` with `max_rounds`, and the
checks of fan-out and loop groups live in `dynamic.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from numbers import Real
from typing import TYPE_CHECKING, Any

import networkx as nx

from rolegraph.errors import GraphError, did_you_mean
from rolegraph.graphs.dynamic import RESERVED_ID_CHARS, ListFields, copy_id, dynamic_problems, no_known_fields, round_id
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool

if TYPE_CHECKING:
    from rolegraph.agents.registry import RoleRegistry

MAX_TEMPERATURE = 2.0
MAX_LISTED_SINKS = 6


def _builtin_roles() -> Iterable[str]:
    from rolegraph.agents.registry import builtin_role_names

    return builtin_role_names()


def builtin_list_fields() -> ListFields:
    """The lists each built-in role's parser produces (what a fan-out's `over` may name), read off its parse
    of an empty reply (the built-in parsers return every field, empty); None for any other role, whose
    parser (a roles file's or a Python role's) validation does not see."""
    from rolegraph.agents.registry import RoleRegistry

    registry = RoleRegistry.default()
    lists = {
        name: tuple(k for k, v in registry.get(name).parse("", "auto").fields.items() if isinstance(v, list | tuple))
        for name in _builtin_roles()
    }
    return lists.get


def _node_problems(spec: GraphSpec, pool: ModelPool | None, roles: set[str]) -> list[str]:
    problems: list[str] = []
    counts = Counter(spec.node_ids)
    for node_id, count in counts.items():
        if count > 1:
            positions = [str(i + 1) for i, n in enumerate(spec.nodes) if n.id == node_id]
            problems.append(f"duplicate node id '{node_id}' (nodes {', '.join(positions)})")
    for i, node in enumerate(spec.nodes):
        label = f"node '{node.id}'" if node.id.strip() else f"node {i + 1}"
        if not node.id.strip():
            problems.append(f"{label}: empty id")
        reserved = [c for c in RESERVED_ID_CHARS if c in node.id]
        if reserved:
            problems.append(
                f"{label}: id contains {', '.join(repr(c) for c in reserved)}, reserved for the ids the runtime gives "
                f"fan-out copies ({copy_id('s', 1)}) and loop rounds ({round_id('s', 1)}); rename the node"
            )
        if node.role not in roles:
            problems.append(f"{label}: unknown role '{node.role}'.{did_you_mean(node.role, roles)}")
        if pool is not None and node.model not in pool:
            problems.append(f"{label}: unknown model '{node.model}'.{did_you_mean(node.model, pool.ids)}")
        problems += _param_problems(label, node.params)
    return problems


NODE_PARAMS = ("temperature", "max_tokens", "tools", "tool_protocol", "coalesce")
"""Every key a node's `params` may hold: the runtime reads these and nothing else, so any other key (a typo
such as `temprature`) would be ignored without a word."""
TOOL_PROTOCOLS = ("native", "text")


def _param_problems(label: str, params: dict) -> list[str]:
    """The call settings a node may override; an unknown key is a problem (nothing would read it)."""
    problems = [
        f"{label}: unknown params key '{key}'.{did_you_mean(str(key), NODE_PARAMS)}"
        for key in params
        if key not in NODE_PARAMS
    ]
    if "tool_protocol" in params and params["tool_protocol"] not in TOOL_PROTOCOLS:
        problems.append(
            f"{label}: params.tool_protocol must be one of {', '.join(TOOL_PROTOCOLS)}, got {params['tool_protocol']!r}"
        )
    if "temperature" in params:
        t = params["temperature"]
        if isinstance(t, bool) or not isinstance(t, Real) or not 0 <= float(t) <= MAX_TEMPERATURE:
            problems.append(f"{label}: params.temperature must be a number in [0, {MAX_TEMPERATURE:g}], got {t!r}")
    if "max_tokens" in params:
        m = params["max_tokens"]
        if isinstance(m, bool) or not isinstance(m, int) or m <= 0:
            problems.append(f"{label}: params.max_tokens must be a positive integer, got {m!r}")
    if "coalesce" in params and not isinstance(params["coalesce"], bool):
        problems.append(f"{label}: params.coalesce must be true or false, got {params['coalesce']!r}")
    if "tools" in params:
        tools = params["tools"]
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            problems.append(f"{label}: params.tools must be a list of tool names, got {tools!r}")
    return problems


def tool_problems(spec: GraphSpec, known: Iterable[str]) -> list[str]:
    """Tools a node names that neither `known` (the toolbox's names) nor one of the graph's MCP servers provides.

    An MCP tool (`server.tool`) is checked only for its server: its tool list is known once it is connected."""
    known = list(known)
    servers = {server.name for server in spec.mcp_servers}
    problems = []
    for node in spec.nodes:
        tools = node.params.get("tools")
        if not isinstance(tools, list):
            continue  # a malformed list is `_param_problems`' line
        for name in tools:
            if not isinstance(name, str) or name in known:
                continue
            server, dot, _ = name.partition(".")
            if dot and server in servers:
                continue
            if dot:
                hint = did_you_mean(server, servers) if servers else " The graph declares no mcp_servers."
                problems.append(
                    f"node '{node.id}': tool '{name}' names MCP server '{server}', which is not declared.{hint}"
                )
            else:
                problems.append(f"node '{node.id}': unknown tool '{name}'.{did_you_mean(name, known)}")
    return problems


def _server_problems(spec: GraphSpec) -> list[str]:
    counts = Counter(server.name for server in spec.mcp_servers)
    return [f"mcp_servers: name '{name}' is used {n} times" for name, n in counts.items() if n > 1]


def _edge_problems(spec: GraphSpec) -> tuple[list[str], nx.DiGraph]:
    """Problems of single edges, and the graph of the valid ones (for the structural checks)."""
    problems: list[str] = []
    ids = set(spec.node_ids)
    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(dict.fromkeys(spec.node_ids))
    counts = Counter(spec.edges)
    reported: set[tuple[str, str]] = set()
    for src, dst in spec.edges:
        name = f"edge {src} -> {dst}"
        if (src, dst) in reported:
            continue
        reported.add((src, dst))
        missing = [x for x in dict.fromkeys((src, dst)) if x not in ids]
        for x in missing:
            problems.append(f"{name}: unknown node '{x}'.{did_you_mean(x, ids)}")
        if src == dst:
            problems.append(f"{name}: self-loop (a node cannot feed itself)")
        if counts[(src, dst)] > 1:
            problems.append(f"{name}: listed {counts[(src, dst)]} times")
        if not missing and src != dst:
            g.add_edge(src, dst)
    return problems, g


def _cycle_problems(g: nx.DiGraph) -> list[str]:
    """One cycle per strongly connected knot, printed as a -> b -> a."""
    problems = []
    order = {n: i for i, n in enumerate(g.nodes)}
    for component in sorted(nx.strongly_connected_components(g), key=lambda c: min(order[n] for n in c)):
        if len(component) < 2:
            continue
        start = min(component, key=order.__getitem__)
        cycle = nx.find_cycle(g.subgraph(component), source=start)
        path = [u for u, _ in cycle] + [cycle[0][0]]
        problems.append(
            f"cycle: {' -> '.join(path)} (unbounded; to loop, declare the back edge under 'loops:' with max_rounds)"
        )
    return problems


def _output_problems(spec: GraphSpec, g: nx.DiGraph, has_cycle: bool) -> tuple[list[str], str | None]:
    ids = spec.node_ids
    if spec.output is not None:
        if spec.output not in set(ids):
            return [f"output '{spec.output}' is not a node.{did_you_mean(spec.output, ids)}"], None
        return [], spec.output
    sinks = [n for n in dict.fromkeys(ids) if g.out_degree(n) == 0]
    if len(sinks) == 1:
        return [], sinks[0]
    if not sinks:
        return ([] if has_cycle else ["no output: every node has a successor; set 'output'"]), None
    shown = ", ".join(sinks[:MAX_LISTED_SINKS]) + (", ..." if len(sinks) > MAX_LISTED_SINKS else "")
    return [f"no single output: {len(sinks)} nodes have no successor ({shown}); set 'output' or connect them"], None


def validate_graph(
    spec: GraphSpec,
    pool: ModelPool | None,
    roles: Iterable[str] | None = None,
    default_roles: Callable[[], Iterable[str]] = _builtin_roles,
) -> list[str]:
    """Every problem of `spec`, one message each (empty list: valid).

    `pool=None` skips the model check (e.g. for a graph built before its pool exists);
    `roles=None` uses `default_roles()` (the built-in roles unless the caller passes the registry's).
    """
    if not spec.nodes:
        return ["graph has no nodes"]
    role_set = set(roles if roles is not None else default_roles())
    problems = _node_problems(spec, pool, role_set) + _server_problems(spec)
    edge_problems, g = _edge_problems(spec)
    problems += edge_problems
    cycles = _cycle_problems(g)
    problems += cycles
    output_problems, output = _output_problems(spec, g, bool(cycles))
    problems += output_problems
    if not cycles and not edge_problems:
        problems += dynamic_problems(spec, builtin_list_fields() if spec.fanout else no_known_fields)
    if output is not None:
        reaching = nx.ancestors(g, output) | {output}
        for node_id in dict.fromkeys(spec.node_ids):
            if node_id not in reaching:
                problems.append(f"node '{node_id}' cannot reach the output '{output}' (its work would be unused)")
    return problems


def check_graph(
    spec: GraphSpec, pool: ModelPool | None = None, roles: Iterable[str] | None = None, source: str | None = None
) -> GraphSpec:
    """`spec` if it is valid, else `GraphError` listing every problem (and the file, if given)."""
    problems = validate_graph(spec, pool, roles)
    if problems:
        raise GraphError(problems, source=source)
    return spec


def silent_outputs(spec: Any, roles: RoleRegistry | None = None) -> list[str]:
    """Output nodes whose role never answers (a planner, a searcher, a roles file's `answers: false`), one line
    each, for a graph or each stage of a router (`spec`). Scoring such a graph gives an empty answer, so 0, on
    every item, which looks like a bad graph rather than a mistake: evaluation refuses it (`evaluate`, `eval`,
    `add_to_run`). `run` and `serve` show the node's text, so they keep running it. A graph without a single
    output gets no line here (that is `validate_graph`'s problem); `roles` None means the built-in roles."""
    from rolegraph.agents.registry import RoleRegistry

    registry = roles if roles is not None else RoleRegistry.default()
    graphs = [stage.graph for stage in spec.stages] if getattr(spec, "kind", None) == "router" else [spec]
    lines = []
    for g in graphs:
        try:
            output = g.node(g.output_id())
        except (KeyError, ValueError):
            continue
        if output.role in registry and not registry.get(output.role).answers:
            lines.append(
                f"output node '{output.id}': role '{output.role}' never answers, so every item would score 0; "
                "end the graph with an answering role (solver, fuser, verifier) or set `output`"
            )
    return lines
