"""Why a graph that feeds a simulated node's output to a real model is refused when it runs with an answer key.

A simulated model decides right or wrong from the item's answer key (`rolegraph.sim`), so everything a sim node
writes (an answer, a verifier's verdict, a planner's plan) is derived from the gold. `chat.spec.gold_for` keeps
the key itself away from real endpoints, but a real node downstream of a sim node reads that output in its
prompt: the gold would leave the process in the request body after all. So a run that carries an answer key
(a task item: `rolegraph run --task`, `rolegraph eval`, a search) refuses such a graph before any call, naming
the two nodes; a free question (`rolegraph run g.yaml "..."`, `serve`) has no key to leak and stays allowed,
and real -> sim edges are harmless (a real node's output owes nothing to the key).

Data flows along the edges, a loop's back edge (a round reads the previous round's output) and a fan-out's
source -> copies (each copy reads its item from the source), so all three are followed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import networkx as nx

from rolegraph.errors import GraphError, SearchError
from rolegraph.graphs.spec import GraphSpec

if TYPE_CHECKING:
    from rolegraph.graphs.router import RouterSpec
    from rolegraph.models.pool import ModelPool

IsSimulated = Callable[[str], bool]
"""Is the model of this id simulated (`ModelSpec.simulated`: the sim backend or a serve-sim twin)?"""


def _flow(spec: GraphSpec) -> nx.DiGraph:
    """Who reads whom: an arc src -> dst for every edge, loop back edge and fan-out source -> copy."""
    flow: nx.DiGraph[str] = nx.DiGraph()
    flow.add_nodes_from(spec.node_ids)
    flow.add_edges_from(
        (src, dst)
        for src, dst in [
            *spec.edges,
            *((lp.source, lp.target) for lp in spec.loops),
            *((f.source, n) for f in spec.fanout for n in f.nodes),
        ]
        if src in flow and dst in flow
    )
    return flow


def gold_leaks(spec: GraphSpec, simulated: IsSimulated) -> list[tuple[str, str]]:
    """(simulated node, real node) for every real node that reads, directly or through other nodes, a
    simulated node's output; per real node its nearest such ancestor (fewest arcs back), real nodes in spec
    order. Empty when the graph may run with an answer key."""
    upstream = _flow(spec).reverse(copy=False)
    sim = {n.id: simulated(n.model) for n in spec.nodes}
    leaks: list[tuple[str, str]] = []
    for node in spec.node_ids:
        if sim[node]:
            continue
        distance = nx.single_source_shortest_path_length(upstream, node)  # nearest first, node itself at 0
        nearest = [a for a in sorted(distance, key=distance.__getitem__) if sim[a]]
        if nearest:
            leaks.append((nearest[0], node))
    return leaks


def gold_leak_problem(spec: GraphSpec, simulated: IsSimulated, where: str = "") -> str | None:
    """The one line refusing `spec` for a run with an answer key (None when nothing leaks). `where`: a
    prefix locating the graph (a router's stage)."""
    leaks = gold_leaks(spec, simulated)
    if not leaks:
        return None
    sim_node, real_node = leaks[0]
    more = f" ({len(leaks) - 1} more real node(s) read a simulated one)" if len(leaks) > 1 else ""
    return (
        f"{where}real node '{real_node}' ({spec.node(real_node).model}) reads the output of simulated node "
        f"'{sim_node}' ({spec.node(sim_node).model}), which a sim model derives from the item's gold answer, so "
        f"running it on a task item would send the gold to a real endpoint{more}: run it on a free question, or "
        "give both nodes simulated models or both real ones"
    )


def refuse_gold_leak(spec: GraphSpec | RouterSpec, pool: ModelPool) -> None:
    """Raise GraphError (one line) when `spec`, a graph or a router (each stage's graph), would pass a
    simulated node's output to a real model. Call it once before a run or an evaluation with answer keys;
    the graph's models must be in `pool` (validate the graph first for a friendlier unknown-model line)."""

    def simulated(model_id: str) -> bool:
        return pool.get(model_id).simulated

    if isinstance(spec, GraphSpec):
        graphs, source = [("", spec)], f"graph '{spec.name}'"
    else:
        graphs = [(f"stage {i}: ", stage.graph) for i, stage in enumerate(spec.stages, start=1)]
        source = f"router '{spec.name}'"
    for where, graph in graphs:
        problem = gold_leak_problem(graph, simulated, where)
        if problem is not None:
            raise GraphError([problem], source=source)


def refuse_mixed_search(pool: ModelPool, models: Iterable[str]) -> None:
    """Refuse (SearchError, one line) a search whose models are simulated and real together: it scores every
    candidate on task items (answer keys), and its graphs put any model on any node, so it would build graphs
    in which a real node reads a simulated one (see the module docstring). Searches over only simulated or only
    real models pass. Call it as a search starts, before any call is paid for."""
    ids = list(dict.fromkeys(models))
    sim = [m for m in ids if pool.get(m).simulated]
    real = [m for m in ids if m not in sim]
    if sim and real:
        raise SearchError(
            f"the search mixes simulated models ({', '.join(sim)}) with real ones ({', '.join(real)}): a sim "
            "model's output is derived from the item's gold answer, and a graph that feeds it to a real node "
            "would send the gold to a real endpoint; search over simulated models or over real ones (--models)"
        )
