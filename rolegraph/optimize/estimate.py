"""What a search will spend, told before it starts: item runs, calls, tokens, dollars and time.

On real endpoints a search costs money and hours, so `rolegraph optimize` prints this first. The
plan of item runs comes from the search configuration (pilot, iterations x samples x batch, the
re-check's reserve, the test items, the single-model comparison and the routing phase's scoring of the
front on `--route-items` fit items, `routing_runs`); the cost of one item run from
the graphs themselves at the task family's token profile (`graphs.analysis`): the pilot's and the
single models' graphs are known in advance, the search's are represented by graphs drawn from the
initial probabilistic graph (their mean is the typical figure, the dearest one the "up to" figure).
Prices come from the pool; a sim model's time from the simulator's formula, a real model's from
its measured calls (`SearchSpace.call_seconds`). Everything is before cache hits: a rerun is cheaper.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.analysis import estimate_cost, in_degrees
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.endpoint import DEFAULT_CONTEXT
from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.context import SearchConfig
from rolegraph.optimize.paired import MAX_CHEAPER_OUTPUTS, MAX_FRONT
from rolegraph.optimize.space import LatencyUnknownError, SearchSpace

SAMPLED_GRAPHS = 64
"""Graphs drawn from the initial distribution to represent the search's item runs."""
SAMPLE_SEED = 0
SECONDS_PER_MINUTE = 60.0
SECONDS_PER_HOUR = 3600.0


@dataclass
class RunCost:
    """One item run of a graph: calls, tokens, dollars, and call-seconds per model."""

    calls: float = 0.0
    tokens: float = 0.0
    dollars: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, other: RunCost, times: float) -> None:
        self.calls += other.calls * times
        self.tokens += other.tokens * times
        self.dollars += other.dollars * times
        for model, s in other.seconds.items():
            self.seconds[model] = self.seconds.get(model, 0.0) + s * times


@dataclass
class SearchEstimate:
    """The plan (item runs by phase) and what it costs, typical and at most."""

    runs: dict[str, int]
    typical: RunCost
    most: RunCost
    unmeasured: list[str]
    concurrency: dict[str, int]
    agent_calls: int = 0
    routing_extra: int = 0
    """Front and derived graphs the routing phase may score besides the chosen graph and the single models
    (counted in the high figures only: how many the search finds is not known before it)."""

    @property
    def item_runs(self) -> int:
        return sum(self.runs.values())

    def wall_seconds(self, cost: RunCost) -> float | None:
        """Rough wall time: the busiest model's call-seconds over the calls it serves at once."""
        if self.unmeasured or not cost.seconds:
            return None
        return max(s / max(self.concurrency.get(m, 1), 1) for m, s in cost.seconds.items())

    def lines(self) -> list[str]:
        plan = ", ".join(f"{k} {v:,}" for k, v in self.runs.items() if v)
        t, m = self.typical, self.most
        out = [
            "estimate before the search (real endpoints; calls the response cache already holds cost nothing):",
            f"  item runs: {self.item_runs:,} ({plan})"
            + (f" + {self.agent_calls} feedback-agent calls" if self.agent_calls else ""),
            f"  calls ~{t.calls:,.0f} (high {m.calls:,.0f}; tool rounds add more), tokens ~{_big(t.tokens)} "
            f"(high {_big(m.tokens)}), dollars ~${t.dollars:,.2f} (high ${m.dollars:,.2f}) at the pool's prices",
        ]
        wall_t, wall_m = self.wall_seconds(t), self.wall_seconds(m)
        if wall_t is None or wall_m is None:
            out.append(
                "  time: unknown - nothing measured yet for " + ", ".join(self.unmeasured) + " (every paid call is "
                "timed; `rolegraph eval` of a graph of it on a few items gives an estimate next time)"
            )
        else:
            out.append(
                f"  time ~{_duration(wall_t)} (high {_duration(wall_m)}; rough: measured call times, each model "
                "serving its max_concurrency calls at once)"
            )
        out.append(
            "  (typical: search graphs like those drawn from the initial distribution; high: every search run at "
            "the highest of them, figure by figure"
            + (
                f", and the routing phase scoring {self.routing_extra} more graphs of the front"
                if self.routing_extra
                else ""
            )
            + ")"
        )
        return out


def _big(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    if n >= 1e3:
        return f"{n / 1e3:.0f}k"
    return f"{n:.0f}"


def _duration(seconds: float) -> str:
    if seconds >= SECONDS_PER_HOUR:
        return f"{seconds / SECONDS_PER_HOUR:.1f} h"
    if seconds >= SECONDS_PER_MINUTE:
        return f"{seconds / SECONDS_PER_MINUTE:.0f} min"
    return f"{seconds:.0f} s"


def run_cost(space: SearchSpace, spec: GraphSpec, unmeasured: set[str]) -> RunCost:
    """One item run of `spec` at the space's token profile (one call per node)."""
    prof = space.profile
    cost = estimate_cost(spec, space.pool, prof)
    seconds: dict[str, float] = defaultdict(float)
    for node_id, k in in_degrees(spec).items():
        model = spec.node(node_id).model
        try:
            seconds[model] += space.call_seconds(model, prof.prompt_tokens + k * prof.output_tokens, prof.output_tokens)
        except LatencyUnknownError:
            unmeasured.add(model)
    return RunCost(
        calls=len(spec.nodes), tokens=float(cost["tokens"]), dollars=float(cost["cost_usd"]), seconds=dict(seconds)
    )


def _highest(costs: list[RunCost]) -> RunCost:
    """Each figure at its highest over `costs` (calls, tokens, dollars and each model's seconds apart)."""
    models = {m for c in costs for m in c.seconds}
    return RunCost(
        calls=max(c.calls for c in costs),
        tokens=max(c.tokens for c in costs),
        dollars=max(c.dollars for c in costs),
        seconds={m: max(c.seconds.get(m, 0.0) for c in costs) for m in models},
    )


def _mean(costs: list[RunCost]) -> RunCost:
    out = RunCost()
    for c in costs:
        out.add(c, 1.0 / len(costs))
    return out


def routing_plan(space: SearchSpace, config: SearchConfig, split_sizes: dict[str, int]) -> tuple[int, int]:
    """(fit items, most extra graphs) of the routing phase (`rebuild.pair_front`, `paired.candidates`): after the
    search, the chosen graph and the single models are scored on the fit items (validation, then training
    items), and so are, when the search found them, up to `MAX_FRONT` front graphs, the chosen graph's
    sub-votes (at most `max_nodes - 2`) and up to `MAX_CHEAPER_OUTPUTS` cheaper outputs, which are scored on
    the test items too. The chosen graph's and single models' test runs repeat the test phase's (same items,
    same seed: the response cache answers them), so they are not counted again."""
    fit = min(config.routing_items, split_sizes["validation"] + split_sizes["train"])
    return fit, MAX_FRONT + MAX_CHEAPER_OUTPUTS + max(space.max_nodes - 2, 0)


def estimate_search(
    space: SearchSpace,
    config: SearchConfig,
    split_sizes: dict[str, int],
    *,
    pilot: list[GraphSpec] | None = None,
    pilot_items: int = 0,
    agent: ModelSpec | None = None,
) -> SearchEstimate:
    """The estimate for a search of `space` under `config` on a task with these split sizes.

    `pilot`: the graphs a pilot scores on `pilot_items` items each (Agent-REINFORCE's), if any.
    `agent`: the LLM feedback agent's model: one call per step (the initial one included), each
    counted at its whole context window (its prompt is sized to fill it)."""
    from rolegraph.optimize.probabilistic import ProbabilisticGraph

    unmeasured: set[str] = set()
    rng = np.random.default_rng(SAMPLE_SEED)
    pg = ProbabilisticGraph(space)
    sampled = [run_cost(space, pg.sample(rng), unmeasured) for _ in range(SAMPLED_GRAPHS)]
    typical = _mean(sampled)
    dearest = _highest(sampled)
    batch = min(config.batch, split_sizes["train"])
    search_runs = (config.iterations or 0) * config.samples * batch
    recheck = min(config.reserve, 2 * split_sizes["validation"])
    if config.max_evaluations is not None:
        search_runs = max(0, min(search_runs, config.max_evaluations - recheck))
    test = min(config.test_items, split_sizes["test"])
    singles = [run_cost(space, space.single(m), unmeasured) for m in space.models] if config.compare_singles else []
    pilot_costs = [run_cost(space, g, unmeasured) for g in pilot or []]
    fit, extra_graphs = routing_plan(space, config, split_sizes)
    runs = {
        "pilot": len(pilot_costs) * pilot_items,
        "search": search_runs,
        "re-check": recheck,
        "test": test,
        "single models": len(singles) * test,
        "routing": fit * (1 + len(singles)),  # the chosen graph and the single models on the fit items
    }
    totals = []
    for per_search_run, extra in ((typical, 0), (dearest, extra_graphs)):
        total = RunCost()
        for c in pilot_costs:
            total.add(c, pilot_items)
        total.add(per_search_run, search_runs + recheck + test + fit)
        for c in singles:
            total.add(c, test + fit)
        # high: as many front and derived graphs as the phase keeps, on the fit and the test items
        total.add(per_search_run, extra * (fit + test) if fit else 0)
        totals.append(total)
    agent_calls = 0
    if agent is not None:
        agent_calls = (config.iterations or 0) + 1
        window = agent.context_window or DEFAULT_CONTEXT  # the window the agent sizes its prompt to
        step = RunCost(calls=1, tokens=window, dollars=agent.cost(window, 0))
        for total in totals:
            total.add(step, agent_calls)
    concurrency = {m: space.pool.get(m).max_concurrency for m in space.models}
    return SearchEstimate(
        runs, totals[0], totals[1], sorted(unmeasured), concurrency, agent_calls, extra_graphs if fit else 0
    )


def pilot_plan(optimizer: Optimizer, space: SearchSpace, config: SearchConfig, train_items: int) -> tuple[list, int]:
    """(graphs, items each) of the optimizer's pilot: Agent-REINFORCE's first stage (each model alone, each
    model's own ensemble), plus, for the default agent, its mixed ensemble as the size order would build it
    (the pilot's own ranking may pick others of like cost); nothing for the other optimizers."""
    from rolegraph.optimize.agent_reinforce import AgentReinforce as AgentReinforceGP
    from rolegraph.optimize.agent_reinforce_base import pilot_graphs
    from rolegraph.optimize.agent_reinforce_v1 import AgentReinforce, mixed_ensemble
    from rolegraph.optimize.pilot import ensemble

    if not isinstance(optimizer, (AgentReinforce, AgentReinforceGP)) or not optimizer.use_pilot:
        return [], 0
    graphs = [g for _, g in pilot_graphs(space)]
    if isinstance(optimizer, AgentReinforce):
        by_size = sorted(space.models, key=space.size, reverse=True)
        mixed = mixed_ensemble(space, by_size) if by_size and ensemble(space, by_size[0]) is None else None
        if mixed is not None:
            graphs.append(mixed)
    return graphs, min(optimizer.pilot_batch or config.batch, train_items)


def needs_estimate(space: SearchSpace, agent_model: str | None = None) -> bool:
    """True when the search calls any real (non-sim) model: then it costs real money and time."""
    ids = [*space.models, *([agent_model] if agent_model else [])]
    return any(space.pool.get(m).backend != "sim" for m in ids)
