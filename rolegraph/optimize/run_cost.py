"""What one item run of a graph costs in the pre-search estimate (`estimate.estimate_search`): calls, tokens,
dollars and each model's call-seconds, the simulated models' share apart.

Each node's call is priced at the task family's token profile, but no reply is longer than its node's
`max_tokens` (its params', else its role's): the endpoint stops it there. Priced at the profile alone, a search of
roles whose `max_tokens` is 96-128 on real SmolLM2 was estimated at 3-5x what it paid, since the math profile's
512-token chain of thought is 4-5x such a role's whole reply. A prompt reads each predecessor's output, so it
grows by that predecessor's capped reply too. Only the estimate caps them: the FLOPs accounting
(`graphs.analysis._node_tokens`) prices every node at the profile, and the simulator and the search's decisions
rest on it, so it stays as it is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from rolegraph.agents.registry import RoleRegistry
from rolegraph.chat.types import DEFAULT_CALL_MAX_TOKENS
from rolegraph.graphs.analysis import TokenProfile
from rolegraph.graphs.dynamic import worst_case
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.space import LatencyUnknownError, SearchSpace


@dataclass
class RunCost:
    """Calls, tokens and dollars (all models; `sim_*`: the simulated models' share of them), call-seconds per
    task model, and the feedback agent's seconds (its calls run one at a time, between iterations)."""

    calls: float = 0.0
    tokens: float = 0.0
    dollars: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)
    sim_calls: float = 0.0
    sim_tokens: float = 0.0
    sim_dollars: float = 0.0
    agent_seconds: float = 0.0

    def add(self, other: RunCost, times: float) -> None:
        self.calls += other.calls * times
        self.tokens += other.tokens * times
        self.dollars += other.dollars * times
        self.sim_calls += other.sim_calls * times
        self.sim_tokens += other.sim_tokens * times
        self.sim_dollars += other.sim_dollars * times
        self.agent_seconds += other.agent_seconds * times
        for model, s in other.seconds.items():
            self.seconds[model] = self.seconds.get(model, 0.0) + s * times

    def real(self) -> tuple[float, float, float]:
        """(calls, tokens, dollars) of the real endpoints: what is paid and waited for."""
        return self.calls - self.sim_calls, self.tokens - self.sim_tokens, self.dollars - self.sim_dollars


def role_caps(registry: RoleRegistry | None) -> dict[str, int]:
    """Each role's `max_tokens` (None: the built-in roles'): the longest reply a node of it gets by default."""
    reg = registry if registry is not None else RoleRegistry.default()
    return {r.name: r.max_tokens for r in reg}


def capped_tokens(spec: GraphSpec, profile: TokenProfile, caps: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """(prompt, completion) tokens of each node's call: the completion at the profile's length but no longer than
    the node's `max_tokens` (params, else its role's in `caps`, else the call default, as the context-window check
    counts it: `space_context.node_tokens`), the prompt the profile's plus each distinct predecessor's capped
    completion (the outputs it reads)."""

    def reply(node_id: str) -> int:
        node = spec.node(node_id)
        cap = int(node.params.get("max_tokens", caps.get(node.role, DEFAULT_CALL_MAX_TOKENS)))
        return min(profile.output_tokens, cap)

    return {
        n.id: (profile.prompt_tokens + sum(reply(p) for p in dict.fromkeys(spec.predecessors(n.id))), reply(n.id))
        for n in spec.nodes
    }


def run_cost(
    space: SearchSpace,
    spec: GraphSpec,
    unmeasured: set[str],
    profile: TokenProfile | None = None,
    caps: Mapping[str, int] | None = None,
) -> RunCost:
    """One item run of `spec` at `profile` (the space's token profile unless given; one call per node, each reply
    capped at its `max_tokens`: `capped_tokens`, with `caps` the roles' caps, read from the space's registry unless
    given; tokens and dollars at a dynamic graph's worst case, as `estimate_cost` counts them), the simulated
    models' share apart."""
    prof = profile or space.profile
    caps = role_caps(space.registry) if caps is None else caps
    sim = {m for m in space.models if space.pool.get(m).backend == "sim"}
    seconds: dict[str, float] = defaultdict(float)
    out = RunCost()
    for node_id, (prompt, reply) in capped_tokens(spec, prof, caps).items():
        model = spec.node(node_id).model
        out.calls += 1
        out.sim_calls += model in sim
        try:
            seconds[model] += space.call_seconds(model, prompt, reply)
        except LatencyUnknownError:
            unmeasured.add(model)
    largest = worst_case(spec)
    for node_id, (prompt, reply) in capped_tokens(largest, prof, caps).items():
        model = largest.node(node_id).model
        tokens, dollars = prompt + reply, space.pool.get(model).cost(prompt, reply)
        out.tokens += tokens
        out.dollars += dollars
        if model in sim:
            out.sim_tokens += tokens
            out.sim_dollars += dollars
    out.seconds = dict(seconds)
    return out


def highest_cost(costs: list[RunCost]) -> RunCost:
    """Each figure at its highest over `costs` (calls, tokens, dollars and each model's seconds apart), the real
    endpoints' part and the simulated models' part each maxed on its own, taken per graph: maxing the totals and
    the sim shares separately took the largest sim share from another graph than the largest total, so the real
    part (total less sim share) of the high figure could fall under the typical one, or under zero."""
    models = {m for c in costs for m in c.seconds}
    real = [c.real() for c in costs]
    sim_calls = max(c.sim_calls for c in costs)
    sim_tokens = max(c.sim_tokens for c in costs)
    sim_dollars = max(c.sim_dollars for c in costs)
    return RunCost(
        calls=max(r[0] for r in real) + sim_calls,
        tokens=max(r[1] for r in real) + sim_tokens,
        dollars=max(r[2] for r in real) + sim_dollars,
        seconds={m: max(c.seconds.get(m, 0.0) for c in costs) for m in models},
        sim_calls=sim_calls,
        sim_tokens=sim_tokens,
        sim_dollars=sim_dollars,
    )


def mean_cost(costs: list[RunCost]) -> RunCost:
    out = RunCost()
    for c in costs:
        out.add(c, 1.0 / len(costs))
    return out
