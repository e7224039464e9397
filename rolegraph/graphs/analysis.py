"""Shape and cost of a graph: depth, width, in-degrees, critical path, tokens, dollars, FLOPs units.

FLOPs follow the paper's budget (DESIGN.md): per node, prefill 2*M*Np + 2*L*D*Np*(Np+1) plus
decode 2*M*Nd + 2*L*D*Nd*(2*Np+Nd+1), where a node's prompt Np grows with its in-degree
(it reads every predecessor's output). The sum over nodes is normalised by one LLaMA-3.2-1B
node with no predecessors at the same token profile, so one 1B solver is exactly 1.0 unit.

Width is the largest number of nodes on one *level*, a node's level being the number of
nodes on the longest path ending at it; depth is the number of levels. Both are about how
the graph runs: nodes on one level can run together, and a run takes `depth` steps.

A graph with fan-out or loops is estimated at its worst case (`dynamic.worst_case`): every fan-out
at `max_fanout` copies, every loop at `max_rounds` rounds. The budget meter, not these estimates,
counts what a run actually spawns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from types import MappingProxyType

import networkx as nx
from pydantic import BaseModel

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import GraphError, RolegraphError
from rolegraph.graphs.dynamic import describe, worst_case
from rolegraph.graphs.nx import to_networkx
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool
from rolegraph.money import money

REFERENCE_MODEL_ID = "sim/llama-3.2-1b"
REFERENCE_PARAMS_B = 1.24
REFERENCE_LAYERS = 16
REFERENCE_HIDDEN = 2048
"""The FLOPs unit: one LLaMA-3.2-1B node (fixed, so a user pool cannot move the unit)."""
PARAMS_PER_BILLION = 1e9


class FlopsUnknownError(RolegraphError):
    """A model lacks the sizes (params_b, layers, hidden) that a FLOPs budget needs."""


@dataclass(frozen=True)
class TokenProfile:
    """Typical token lengths of one node call for a task family (the budget's Np and Nd)."""

    prompt_tokens: int
    output_tokens: int

    def __post_init__(self) -> None:
        if self.prompt_tokens <= 0 or self.output_tokens <= 0:
            raise ValueError(f"token counts must be positive, got {self.prompt_tokens}/{self.output_tokens}")


MATH_PROFILE = TokenProfile(prompt_tokens=256, output_tokens=512)
"""Short problem statement, long chain of thought."""
MMLU_PROFILE = TokenProfile(prompt_tokens=320, output_tokens=192)
"""Question with four choices, brief reasoning and a letter."""
CODE_PROFILE = TokenProfile(prompt_tokens=320, output_tokens=384)
"""Signature and docstring in, a function body out."""
QA_PROFILE = TokenProfile(prompt_tokens=640, output_tokens=160)
"""Evidence-heavy prompt, short answer."""
TOKEN_PROFILES = MappingProxyType({"math": MATH_PROFILE, "mmlu": MMLU_PROFILE, "code": CODE_PROFILE, "qa": QA_PROFILE})


def _dag(spec: GraphSpec) -> nx.DiGraph:
    g = to_networkx(spec)
    if not nx.is_directed_acyclic_graph(g):
        cycle = [u for u, _ in nx.find_cycle(g)]
        raise GraphError(
            [f"cycle: {' -> '.join(cycle + cycle[:1])} (validate the graph first)"], source=f"graph '{spec.name}'"
        )
    return g


def levels(spec: GraphSpec) -> dict[str, int]:
    """Each node's level: 1 for a node without predecessors, else 1 + its deepest predecessor's."""
    g = _dag(spec)
    level: dict[str, int] = {}
    for node in nx.topological_sort(g):
        level[node] = 1 + max((level[p] for p in g.predecessors(node)), default=0)
    return {n: level[n] for n in g.nodes}


def depth(spec: GraphSpec) -> int:
    """Nodes on the longest path (0 for an empty graph)."""
    return max(levels(spec).values(), default=0)


def width(spec: GraphSpec) -> int:
    """Most nodes on one level (see the module docstring)."""
    return max(Counter(levels(spec).values()).values(), default=0)


def in_degrees(spec: GraphSpec) -> dict[str, int]:
    """Number of distinct predecessors of each node, in node order."""
    g = to_networkx(spec)
    return {n: g.in_degree(n) for n in g.nodes}


def critical_path(spec: GraphSpec, node_latency: dict[str, float]) -> tuple[float, list[str]]:
    """The slowest path into the output: (its summed latency, its nodes). Absent nodes count 0 s.

    Ties between predecessors go to the one listed first in the spec, so the result is deterministic.
    Not `schedule.critical_path_s` (a run's time, where an absent node did not run and breaks the chain):
    this estimates a graph before it runs, and names the path.
    """
    g = _dag(spec)
    order = {n: i for i, n in enumerate(g.nodes)}
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    for node in nx.lexicographical_topological_sort(g, key=order.__getitem__):
        preds = sorted(g.predecessors(node), key=order.__getitem__)
        best = max(preds, key=lambda p: finish[p], default=None)
        via[node] = best
        finish[node] = float(node_latency.get(node, 0.0)) + (finish[best] if best is not None else 0.0)
    if not finish:
        return 0.0, []
    try:  # every node of a valid graph reaches the output, so the slowest path ends there
        end = spec.output_id()
    except ValueError:  # several sinks: the slowest one, the later in topological order on ties
        topo = list(finish)
        end = max(reversed(topo), key=lambda n: finish[n])
    path = [end]
    while (prev := via[path[-1]]) is not None:
        path.append(prev)
    return finish[end], path[::-1]


def _flops(params_b: float, layers: int, hidden: int, prompt_tokens: int, output_tokens: int) -> float:
    m, l_d = params_b * PARAMS_PER_BILLION, layers * hidden
    n_p, n_d = prompt_tokens, output_tokens
    prefill = 2 * m * n_p + 2 * l_d * n_p * (n_p + 1)
    decode = 2 * m * n_d + 2 * l_d * n_d * (2 * n_p + n_d + 1)
    return float(prefill + decode)


def node_flops(spec_model: ModelSpec, prompt_tokens: int, output_tokens: int) -> float:
    """FLOPs of one call of `spec_model` with Np prompt and Nd generated tokens (DESIGN.md formula)."""
    params_b, layers, hidden = spec_model.params_b, spec_model.layers, spec_model.hidden
    if params_b is None or layers is None or hidden is None:
        missing = [f for f in ("params_b", "layers", "hidden") if getattr(spec_model, f) is None]
        raise FlopsUnknownError(
            f"model '{spec_model.id}' has no {'/'.join(missing)}: FLOPs budgets need params_b, layers and "
            "hidden (add them to its pool entry), or budget it in dollars or seconds (--budget-kind dollars|latency)"
        )
    return _flops(params_b, layers, hidden, prompt_tokens, output_tokens)


def reference_flops(profile: TokenProfile) -> float:
    """FLOPs of the unit: one 1B node with no predecessors at `profile`."""
    return _flops(REFERENCE_PARAMS_B, REFERENCE_LAYERS, REFERENCE_HIDDEN, profile.prompt_tokens, profile.output_tokens)


def _node_tokens(spec: GraphSpec, profile: TokenProfile) -> dict[str, tuple[int, int]]:
    """(Np, Nd) per node: the prompt grows by one predecessor output per in-edge."""
    return {
        n: (profile.prompt_tokens + k * profile.output_tokens, profile.output_tokens)
        for n, k in in_degrees(spec).items()
    }


FLOPS_UNKNOWN = "n/a (model sizes unknown)"


def flops_text(units: float | None) -> str:
    """A FLOPs figure for a table cell: a run records 0.0 when a model lacks the sizes FLOPs need (a graph with
    sizes always costs more than zero), so zero and None read "n/a", never "0.00"."""
    return f"{units:.2f}" if units else FLOPS_UNKNOWN


def flops_phrase(units: float | None, digits: int = 2) -> str:
    """The same in running text: "12.70 FLOPs units", or "FLOPs units n/a (model sizes unknown)"."""
    return f"{units:.{digits}f} FLOPs units" if units else f"FLOPs units {FLOPS_UNKNOWN}"


def node_flops_units(spec: GraphSpec, pool: ModelPool, profile: TokenProfile) -> dict[str, float]:
    """Each node's FLOPs in units of one 1B node (a router counts only the nodes a stage really runs)."""
    models = {node.id: node.model for node in spec.nodes}
    unit = reference_flops(profile)
    return {
        n: node_flops(pool.get(models[n]), n_p, n_d) / unit for n, (n_p, n_d) in _node_tokens(spec, profile).items()
    }


def flops_units(spec: GraphSpec, pool: ModelPool, profile: TokenProfile, only: Collection[str] | None = None) -> float:
    """The graph's FLOPs in units of one 1B node (see the module docstring); a dynamic graph's worst case.

    With `only`, the FLOPs of those nodes alone (a run that stopped part way counts what ran), each still at
    its in-degree in the whole graph. The nodes are summed in the same order either way, so `only` naming
    every node gives the whole graph's figure bit for bit: a complete run reports what `validate` estimates."""
    spec = worst_case(spec)
    models = {node.id: node.model for node in spec.nodes}
    total = sum(
        node_flops(pool.get(models[n]), n_p, n_d)
        for n, (n_p, n_d) in _node_tokens(spec, profile).items()
        if only is None or n in only
    )
    return total / reference_flops(profile)


def node_cost_estimates(spec: GraphSpec, pool: ModelPool, profile: TokenProfile) -> dict[str, tuple[int, float]]:
    """{node id: (tokens, dollars)} expected for one call of each node at `profile`."""
    models = {node.id: node.model for node in spec.nodes}
    return {n: (n_p + n_d, pool.get(models[n]).cost(n_p, n_d)) for n, (n_p, n_d) in _node_tokens(spec, profile).items()}


def estimate_cost(spec: GraphSpec, pool: ModelPool, profile: TokenProfile) -> dict[str, float | int]:
    """Expected tokens and dollars of one run at `profile`: {tokens_in, tokens_out, tokens, cost_usd}.

    A dynamic graph is counted at its worst case (every copy spawned, every round run)."""
    spec = worst_case(spec)
    models = {node.id: node.model for node in spec.nodes}
    tokens_in = tokens_out = 0
    dollars = 0.0
    for node_id, (n_p, n_d) in _node_tokens(spec, profile).items():
        tokens_in += n_p
        tokens_out += n_d
        dollars += pool.get(models[node_id]).cost(n_p, n_d)
    return {"tokens_in": tokens_in, "tokens_out": tokens_out, "tokens": tokens_in + tokens_out, "cost_usd": dollars}


class GraphSummary(BaseModel):
    """What `rolegraph validate` and `show` print about a graph."""

    name: str
    nodes: int
    edges: int
    depth: int
    width: int
    max_in_degree: int
    flops_units: float | None  # None when a model lacks the sizes a FLOPs budget needs
    tokens: int
    cost_usd: float
    simulated: bool  # every model is a sim model
    dynamic: str = ""  # what the graph may spawn or repeat; then depth .. cost are worst cases
    worst_case_nodes: int | None = None  # node runs at the worst case (dynamic graphs)

    def line(self) -> str:
        flops = f"{self.flops_units:.2f} FLOPs units" if self.flops_units is not None else "FLOPs units n/a"
        sim = " (simulated models)" if self.simulated else ""
        worst = f" (worst case: {self.worst_case_nodes} node runs; {self.dynamic})" if self.dynamic else ""
        return (
            f"{self.nodes} node{'' if self.nodes == 1 else 's'}, {self.edges} edge{'' if self.edges == 1 else 's'}, "
            f"depth {self.depth}, width {self.width}, "
            f"max in-degree {self.max_in_degree}, {flops}, ~{self.tokens:,} tokens, "
            f"~{money(self.cost_usd)} per run{sim}{worst}"
        )


def summary(spec: GraphSpec, pool: ModelPool, profile: TokenProfile) -> GraphSummary:
    """Shape and estimated cost of a valid graph at `profile` (a dynamic graph's at its worst case)."""
    worst = worst_case(spec)
    degrees = in_degrees(worst)
    try:
        units: float | None = flops_units(spec, pool, profile)
    except FlopsUnknownError:
        units = None
    cost = estimate_cost(spec, pool, profile)
    return GraphSummary(
        name=spec.name,
        nodes=len(spec.nodes),
        edges=len(set(spec.edges)),
        depth=depth(worst),
        width=width(worst),
        max_in_degree=max(degrees.values(), default=0),
        flops_units=units,
        tokens=int(cost["tokens"]),
        cost_usd=float(cost["cost_usd"]),
        simulated=all(pool.get(n.model).simulated for n in spec.nodes),
        dynamic=describe(spec),
        worst_case_nodes=len(worst.nodes) if spec.dynamic else None,
    )
