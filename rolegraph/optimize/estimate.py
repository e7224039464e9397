"""What a search will spend, told before it starts: item runs, calls, tokens, dollars and time.

On real endpoints a search costs money and hours, so `rolegraph optimize` prints this first. The
plan of item runs comes from the search configuration (pilot, iterations x samples x batch, the
re-check's reserve, the test items, the single-model comparison and the routing phase's scoring of the
front on `--route-items` fit items, `routing_runs`); the cost of one item run from the graphs themselves
(`run_cost`), each node's prompt at what it sends (its role's system prompt, the task's own questions when its items
are known: the typical figure at the mean question, the high one at the longest; its inputs) and its reply at the
task family's token profile (`graphs.analysis`) but no longer than its `max_tokens`: the pilot's and the single
models' graphs are known in advance (`estimate_pilot`), the search's are represented by graphs drawn from the initial
probabilistic graph (their mean is the typical figure, the dearest one the "up to" figure).
Prices come from the pool; a sim model's time from the simulator's formula, a real model's from
its measured calls (`SearchSpace.call_seconds`). Everything is before cache hits: a rerun is cheaper.

Real endpoints and simulated models are told apart: a sim model's calls cost nothing and its time is the
simulator's model of a latency, not time anyone waits, so adding them to the real figures (as this once did,
with a real feedback agent over sim task models) gave a "real endpoints" time of minutes for a search whose
agent calls alone took most of an hour. The LLM feedback agent's calls are real ones, made one at a time
between iterations: their seconds add to the wall time, from the agent model's measured calls when the
timings store has them, else `AGENT_CALL_SECONDS` (said so), and the high figure counts its re-asks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.endpoint import DEFAULT_CONTEXT
from rolegraph.models.timings import LatencyRates
from rolegraph.money import money
from rolegraph.optimize.context import SearchConfig
from rolegraph.optimize.estimate_pilot import PilotPlan, pilot_plan
from rolegraph.optimize.paired import MAX_CHEAPER_OUTPUTS, MAX_FRONT
from rolegraph.optimize.run_cost import RunCost, highest_cost, mean_cost, role_caps, run_cost, task_prompts
from rolegraph.optimize.space import SearchSpace

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rolegraph.items import Item

_highest = highest_cost  # its earlier name, which tests import from here

__all__ = ["PilotPlan", "RunCost", "SearchEstimate", "estimate_search", "needs_estimate", "pilot_plan", "routing_plan"]

SAMPLED_GRAPHS = 64
"""Graphs drawn from the initial distribution to represent the search's item runs."""
SAMPLE_SEED = 0
SECONDS_PER_MINUTE = 60.0
SECONDS_PER_HOUR = 3600.0
AGENT_CALL_SECONDS = 60.0
"""An LLM feedback agent's call time while none of its calls is measured: a prompt filling its context window
and a reply of up to `llm_agent.REPLY_CAP` tokens. About what a small local server took (a measured search:
8 agent requests in most of its 7m44s); a hosted model is faster, so the figure is said to be assumed."""


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
    sim_models: list[str] = field(default_factory=list)
    """The searched models that are simulated: their calls are counted apart, their time is modelled."""
    agent_requests_high: int = 0
    """The agent's requests at most: every call re-asked `llm_agent.MAX_RETRIES` times (its endpoint's 1-token
    probes and the backend's own re-sends of a failed request apart)."""
    agent_call_seconds: float = 0.0
    agent_seconds_source: str = ""
    """"measured" (fitted to the agent model's timed calls) or "assumed" (`AGENT_CALL_SECONDS`)."""
    probe: bool = False
    """Whether the agent's endpoint is first probed for its structured-output form (an OpenAI-compatible server)."""

    @property
    def item_runs(self) -> int:
        return sum(self.runs.values())

    def _real_models(self) -> list[str]:
        return [m for m in self.concurrency if m not in self.sim_models]

    def wall_seconds(self, cost: RunCost) -> float | None:
        """Rough wall time on the real endpoints: the busiest real model's call-seconds over the calls it serves
        at once, plus the feedback agent's calls (one at a time). Simulated models add none: they answer at once."""
        if self.unmeasured:
            return None
        real = [s / max(self.concurrency.get(m, 1), 1) for m, s in cost.seconds.items() if m not in self.sim_models]
        if not real and not cost.agent_seconds:
            return None
        return max(real, default=0.0) + cost.agent_seconds

    def sim_seconds(self, cost: RunCost) -> float:
        """The simulated models' modelled time, reckoned as `wall_seconds` is (a figure of the sim, not a wait)."""
        sim = [s / max(self.concurrency.get(m, 1), 1) for m, s in cost.seconds.items() if m in self.sim_models]
        return max(sim, default=0.0)

    def _time_basis(self) -> str:
        """What the time figure rests on: the real task models' measured calls, the agent's call seconds."""
        basis = (
            ["measured call times, each model serving its max_concurrency calls at once"] if self._real_models() else []
        )
        if self.agent_calls or self.agent_requests_high:
            how = (
                "measured" if self.agent_seconds_source == "measured" else "assumed: none of its calls is measured yet"
            )
            basis.append(f"the feedback agent's calls one at a time, ~{self.agent_call_seconds:.0f} s each ({how})")
        return "; ".join(basis)

    def lines(self) -> list[str]:
        plan = ", ".join(f"{k} {v:,}" for k, v in self.runs.items() if v)
        t, m = self.typical, self.most
        (calls_t, tokens_t, dollars_t), (calls_m, tokens_m, dollars_m) = t.real(), m.real()
        asked = self.agent_calls or self.agent_requests_high
        real = "  real endpoints: " if self.sim_models else "  "  # said where simulated figures follow
        out = [
            "estimate before the search (real endpoints; calls the response cache already holds cost nothing):",
            f"  item runs: {self.item_runs:,} ({plan})"
            + (
                f" + {self.agent_calls} feedback-agent calls (high {self.agent_requests_high} requests: each call "
                "re-asked up to the agent's attempt limit"
                + ("; and 1-token probes of its endpoint)" if self.probe else ")")
                if asked
                else ""
            ),
            f"{real}calls ~{calls_t:,.0f} (high {calls_m:,.0f}; tool rounds add more), tokens ~{_big(tokens_t)} "
            f"(high {_big(tokens_m)}), dollars ~{money(dollars_t)} (high {money(dollars_m)}) at the pool's prices",
        ]
        wall_t, wall_m = self.wall_seconds(t), self.wall_seconds(m)
        if self.unmeasured:
            out.append(
                "  time: unknown - nothing measured yet for " + ", ".join(self.unmeasured) + " (every paid call is "
                "timed; `rolegraph eval` of a graph of it on a few items gives an estimate next time)"
            )
        elif wall_t is not None and wall_m is not None:
            out.append(f"{real}time ~{_duration(wall_t)} (high {_duration(wall_m)}; rough: {self._time_basis()})")
        if self.sim_models:
            out.append(
                f"  simulated ({', '.join(self.sim_models)}; not in the figures above): calls ~{t.sim_calls:,.0f} "
                f"(high {m.sim_calls:,.0f}), tokens ~{_big(t.sim_tokens)} (high {_big(m.sim_tokens)}), simulated "
                f"dollars ~{money(t.sim_dollars)} (high {money(m.sim_dollars)}), simulated time "
                f"~{_duration(self.sim_seconds(t))} (high {_duration(self.sim_seconds(m))}; the simulator answers "
                "at once)"
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


def routing_plan(space: SearchSpace, config: SearchConfig, split_sizes: dict[str, int]) -> tuple[int, int]:
    """(fit items, most extra graphs) of the routing phase (`rebuild.pair_front`, `paired.candidates`): after the
    search, the chosen graph and the single models are scored on the fit items (validation, then training
    items), and so are, when the search found them, up to `MAX_FRONT` front graphs, the chosen graph's
    sub-votes (at most `max_nodes - 2`) and up to `MAX_CHEAPER_OUTPUTS` cheaper outputs, which are scored on
    the test items too. The chosen graph's and single models' test runs repeat the test phase's (same items,
    same seed: the response cache answers them), so they are not counted again."""
    fit = min(config.routing_items, split_sizes["validation"] + split_sizes["train"])
    return fit, MAX_FRONT + MAX_CHEAPER_OUTPUTS + max(space.max_nodes - 2, 0)


def agent_call(agent: ModelSpec, rates: LatencyRates | None) -> tuple[RunCost, float, str]:
    """(one call's cost, its seconds, "measured" or "assumed") of the LLM feedback agent: its prompt is sized
    to fill the context window, counted whole, and its reply is up to `REPLY_CAP` tokens of it."""
    from rolegraph.optimize.llm_agent import REPLY_CAP

    window = agent.context_window or DEFAULT_CONTEXT  # the window the agent sizes its prompt to
    reply = min(REPLY_CAP, window // 2)
    seconds, source = (rates.seconds(window - reply, reply), "measured") if rates else (AGENT_CALL_SECONDS, "assumed")
    return RunCost(calls=1, tokens=window, dollars=agent.cost(window, 0), agent_seconds=seconds), seconds, source


def estimate_search(
    space: SearchSpace,
    config: SearchConfig,
    split_sizes: dict[str, int],
    *,
    pilot: PilotPlan | None = None,
    pilot_items: int = 0,
    agent: ModelSpec | None = None,
    agent_rates: LatencyRates | None = None,
    questions: Iterable[Item] | None = None,
    answer_kind: str | None = None,
) -> SearchEstimate:
    """The estimate for a search of `space` under `config` on a task with these split sizes.

    `pilot`: what the optimizer's pilot scores on `pilot_items` items each (`pilot_plan`), if anything.
    `agent`: the LLM feedback agent's model, `agent_rates` its measured call times (None: not measured): one
    call per step (the initial one included), each counted at its whole context window; the high figure
    counts every call re-asked to the agent's attempt limit. `questions`: the task's items, when known: calls are
    priced with their questions' length, else with the question the family's profile assumes; `answer_kind`: the
    task's (None: the space's family), whose answer format the roles' system prompts hold (`run_cost.task_prompts`)."""
    from rolegraph.optimize.llm_agent import MAX_RETRIES
    from rolegraph.optimize.probabilistic import ProbabilisticGraph

    plan = pilot or PilotPlan()
    unmeasured: set[str] = set()
    rng = np.random.default_rng(SAMPLE_SEED)
    pg = ProbabilisticGraph(space)
    drawn = [pg.sample(rng) for _ in range(SAMPLED_GRAPHS)]
    usual, longest = task_prompts(space, answer_kind or space.family, questions)
    caps = role_caps(space.registry)  # no reply is priced longer than its node's max_tokens (`run_cost`)
    typical = mean_cost([run_cost(space, g, unmeasured, usual, caps) for g in drawn])
    dearest = highest_cost([run_cost(space, g, unmeasured, longest, caps) for g in drawn])
    batch = min(config.batch, split_sizes["train"])
    recheck = min(config.reserve, 2 * split_sizes["validation"])
    # no iteration count: the search runs until the budget less the re-check's reserve is spent
    search_runs = config.samples * batch * config.iterations if config.iterations is not None else None
    if config.max_evaluations is not None:
        budget = max(0, config.max_evaluations - recheck)
        search_runs = budget if search_runs is None else min(search_runs, budget)
    search_runs = search_runs or 0
    iterations = math.ceil(search_runs / max(config.samples * batch, 1))
    test = min(config.test_items, split_sizes["test"])
    single_graphs = [space.single(m) for m in space.models] if config.compare_singles else []
    first_graphs, mix_graphs = list(plan.graphs), list(plan.mix_graphs())
    n_mixes = plan.most_mixes if mix_graphs else 0
    if plan.in_search:  # scored in the search's own slots: as many as the search has, first stage first
        slots = search_runs // max(pilot_items, 1)
        n_mixes = min(n_mixes, max(slots - len(first_graphs), 0))
        first_graphs = first_graphs[:slots]
    pilot_runs = (len(first_graphs) + n_mixes) * pilot_items
    if plan.in_search:
        search_runs -= pilot_runs
    fit, extra_graphs = routing_plan(space, config, split_sizes)
    runs = {
        "pilot": pilot_runs,
        "search": search_runs,
        "re-check": recheck,
        "test": test,
        "single models": len(single_graphs) * test,
        "routing": fit * (1 + len(single_graphs)),  # the chosen graph and the single models on the fit items
    }
    totals = []
    for per_search_run, prompts, high in ((typical, usual, False), (dearest, longest, True)):
        mixes = [run_cost(space, g, unmeasured, prompts, caps) for g in mix_graphs]
        per_mix = (highest_cost(mixes) if high else mean_cost(mixes)) if mixes else None
        singles = [run_cost(space, g, unmeasured, prompts, caps) for g in single_graphs]
        extra = extra_graphs if high else 0
        total = RunCost()
        for c in (run_cost(space, g, unmeasured, prompts, caps) for g in first_graphs):
            total.add(c, pilot_items)
        if per_mix is not None:
            total.add(per_mix, n_mixes * pilot_items)
        total.add(per_search_run, search_runs + recheck + test + fit)
        for c in singles:
            total.add(c, test + fit)
        # high: as many front and derived graphs as the phase keeps, on the fit and the test items
        total.add(per_search_run, extra * (fit + test) if fit else 0)
        totals.append(total)
    agent_calls = requests_high = 0
    call_seconds, source = 0.0, ""
    if agent is not None:
        # fewer second-stage mixes: a shorter pilot, more agent steps after it (the high figure)
        if pilot is None:  # the optimizer's pilot not told: an initial call and a step per iteration
            agent_calls = most_calls = iterations + 1
        else:
            agent_calls = plan.agent_calls(iterations, config.samples, plan.most_mixes)
            most_calls = plan.agent_calls(iterations, config.samples, plan.fewest_mixes)
        requests_high = most_calls * (MAX_RETRIES + 1)
        step, call_seconds, source = agent_call(agent, agent_rates)
        totals[0].add(step, agent_calls)
        totals[1].add(step, requests_high)
    concurrency = {m: space.pool.get(m).max_concurrency for m in space.models}
    sim_models = [m for m in space.models if space.pool.get(m).backend == "sim"]
    return SearchEstimate(
        runs,
        totals[0],
        totals[1],
        sorted(unmeasured),
        concurrency,
        agent_calls,
        extra_graphs if fit else 0,
        sim_models,
        requests_high,
        call_seconds,
        source,
        agent is not None and agent.backend == "openai" and agent.base_url is not None,
    )


def needs_estimate(space: SearchSpace, agent_model: str | None = None) -> bool:
    """True when the search calls any real (non-sim) model: then it costs real money and time."""
    ids = [*space.models, *([agent_model] if agent_model else [])]
    return any(space.pool.get(m).backend != "sim" for m in ids)
