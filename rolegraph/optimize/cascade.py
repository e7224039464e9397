"""A cascade's outcome computed from paired outcomes, without running anything.

Every candidate graph was scored on the same items (optimize/paired.py). A cascade of them answers an item
at the first stage whose stop rule holds on that stage's observed signals, so its score on the item is that
stage's score, and what it spent is what the stages up to there add: their FLOPs units and dollars minus
the nodes a stage reads from earlier stages (graphs/router.py). The router runtime makes exactly these
calls (equal nodes are equal calls), so a router's evaluation reproduces these numbers on the sim.

A graph whose output reads several answering nodes also offers a plurality stage (`plurality_outcomes`): its
voters' plurality, observed from the same stored runs (each node's answer and score), without its output.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rolegraph.evaluate.result import EvalResult
from rolegraph.graphs.analysis import TokenProfile
from rolegraph.graphs.router import (
    OUTPUT,
    PLURALITY,
    AnswerMode,
    RouterSpec,
    Stage,
    StopRule,
    plurality_parts,
    plurality_problems,
    stage_flops,
)
from rolegraph.graphs.signals import ANSWERING_ROLES, Signals, answer_form, plurality_voter
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool


@dataclass
class Outcomes:
    """One candidate graph on one split's items: scores, signals and spend, item by item (same order for all)."""

    name: str
    source: str
    spec: GraphSpec
    result: EvalResult
    answer: AnswerMode = OUTPUT  # "plurality": the stage answers by its voters' plurality (graphs/router.py)
    score: np.ndarray = field(init=False)
    agreement: np.ndarray = field(init=False)  # NaN where not observed
    verified: np.ndarray = field(init=False)  # 1 accepted, 0 rejected, -1 no verdict
    parsable: np.ndarray = field(init=False)
    logprob: np.ndarray = field(init=False)  # NaN where not returned
    latency: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        items = self.result.items
        self.score = np.array([it.score for it in items], dtype=float)
        self.agreement = np.array([math.nan if it.agreement is None else it.agreement for it in items], dtype=float)
        self.verified = np.array([-1 if it.verified is None else int(it.verified) for it in items], dtype=int)
        self.parsable = np.array([it.answer is not None and it.error is None for it in items], dtype=bool)
        self.logprob = np.array([math.nan if it.logprob is None else it.logprob for it in items], dtype=float)
        self.latency = np.array([it.latency_s for it in items], dtype=float)

    @property
    def n(self) -> int:
        return len(self.score)

    def passes(self, rule: StopRule) -> np.ndarray:
        """Items on which the rule holds (the vector form of `StopRule.passes`)."""
        ok = self.parsable.copy()
        if rule.min_agreement is not None:
            with np.errstate(invalid="ignore"):
                ok &= np.nan_to_num(self.agreement, nan=-1.0) >= rule.min_agreement - 1e-9
        if rule.require_verified:
            ok &= self.verified == 1
        if rule.min_logprob is not None:
            ok &= np.nan_to_num(self.logprob, nan=-math.inf) >= rule.min_logprob
        if rule.or_min_logprob is not None:
            ok |= self.parsable & (np.nan_to_num(self.logprob, nan=-math.inf) >= rule.or_min_logprob)
        return ok

    def item_signals(self, i: int) -> Signals:
        it = self.result.items[i]
        return Signals(
            agreement=it.agreement, verified=it.verified, parsable=bool(self.parsable[i]), logprob=it.logprob
        )

    def node_dollars(self, exclude: set[str]) -> np.ndarray:
        """Dollars per item of the nodes not in `exclude` (those a stage reuses cost it nothing)."""
        return np.array(
            [sum(u.cost_usd for nid, u in it.node_usage.items() if nid not in exclude) for it in self.result.items],
            dtype=float,
        )


@dataclass
class Chain:
    """Candidates (indices into a list of `Outcomes`) in the order they run, with the stop rules between them."""

    stages: tuple[int, ...]
    rules: tuple[StopRule, ...]  # one per stage but the last

    def router(self, outcomes: list[Outcomes], name: str = "router", description: str | None = None) -> RouterSpec:
        stages = [
            Stage(
                graph=outcomes[c].spec, stop=self.rules[i] if i < len(self.rules) else None, answer=outcomes[c].answer
            )
            for i, c in enumerate(self.stages)
        ]
        return RouterSpec(name=name, description=description, stages=stages)


@dataclass
class Point:
    """A cascade's mean outcome on one split."""

    chain: Chain
    accuracy: float
    flops_units: float
    dollars: float
    latency_s: float
    shares: list[float]  # share of items each stage answered
    scores: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    flops: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))  # per item (route_guard's folds)


class CascadeCosts:
    """Per-stage increments of a chain (FLOPs units, dollars per item), cached by (previous stages, stage)."""

    def __init__(self, outcomes: list[Outcomes], pool: ModelPool, profile: TokenProfile):
        self.outcomes, self.pool, self.profile = outcomes, pool, profile
        self._cache: dict[tuple[int, ...], tuple[float, np.ndarray, np.ndarray]] = {}

    def increment(self, stages: tuple[int, ...]) -> tuple[float, np.ndarray]:
        """What the last of `stages` adds when it runs after the others: (FLOPs units, dollars per item)."""
        flops, dollars, _ = self._increment(stages)
        return flops, dollars

    def latency(self, stages: tuple[int, ...]) -> np.ndarray:
        """Per item, the time the last of `stages` takes after the others: nodes it reads from them take none."""
        return self._increment(stages)[2]

    def _increment(self, stages: tuple[int, ...]) -> tuple[float, np.ndarray, np.ndarray]:
        if stages not in self._cache:
            last = self.outcomes[stages[-1]]
            router = RouterSpec(
                stages=[Stage(graph=self.outcomes[c].spec, answer=self.outcomes[c].answer) for c in stages]
            )
            flops = stage_flops(router, self.pool, self.profile)[-1]
            reused = set(router.reuse()[-1])
            latency = last.latency if not reused else _reuse_latency(last, reused)
            self._cache[stages] = (flops, last.node_dollars(reused), latency)
        return self._cache[stages]


def evaluate_chain(chain: Chain, outcomes: list[Outcomes], costs: CascadeCosts, answered: list[np.ndarray]) -> Point:
    """The chain's point given, per stage but the last, the items its rule passes (`answered[i]`)."""
    n = outcomes[chain.stages[0]].n
    left = np.ones(n, dtype=bool)
    score = np.zeros(n)
    flops = np.zeros(n)
    dollars = np.zeros(n)
    latency = np.zeros(n)
    shares = []
    for i, c in enumerate(chain.stages):
        inc_flops, inc_dollars = costs.increment(chain.stages[: i + 1])
        flops[left] += inc_flops
        dollars[left] += inc_dollars[left]
        latency[left] += costs.latency(chain.stages[: i + 1])[left]
        stop = left & answered[i] if i < len(answered) else left.copy()
        score[stop] = outcomes[c].score[stop]
        shares.append(int(np.count_nonzero(stop)) / n)
        left &= ~stop
    return Point(  # sums over n, not .mean(): route fit scores ~1e5 chains and numpy's mean costs a Python call
        chain=chain,
        accuracy=float(score.sum()) / n,
        flops_units=float(flops.sum()) / n,
        dollars=float(dollars.sum()) / n,
        latency_s=float(latency.sum()) / n,
        shares=shares,
        scores=score,
        flops=flops,
    )


def answering_stage(chain: Chain, outcomes: list[Outcomes]) -> np.ndarray:
    """Per item, the index of the chain's stage that answers it (the first whose stop rule holds, else the last)."""
    n = outcomes[chain.stages[0]].n
    stage = np.full(n, len(chain.stages) - 1)
    left = np.ones(n, dtype=bool)
    for i, (c, rule) in enumerate(zip(chain.stages, chain.rules)):
        stop = left & outcomes[c].passes(rule)
        stage[stop] = i
        left &= ~stop
    return stage


def evaluate_rule_combos(
    stages: tuple[int, ...],
    outcomes: list[Outcomes],
    costs: CascadeCosts,
    grids: dict[int, list[tuple[StopRule, np.ndarray]]],
) -> list[Point]:
    """Every chain of `stages` with every combination of its stages' rules (`grids[c]`: a stage's rules and the
    items each passes), in `itertools.product` order: `evaluate_chain` on each, computed for all combinations
    at once. Why: `route fit` scores ~1e5 chains and one call per chain took most of its time; the figures are
    the same, bit for bit (the same additions in the same order, row by row)."""
    choices = [grids[c] for c in stages[:-1]]
    combos = list(itertools.product(*(range(len(g)) for g in choices)))
    n = outcomes[stages[0]].n
    left = np.ones((len(combos), n), dtype=bool)
    score, flops, dollars, latency = (np.zeros((len(combos), n)) for _ in range(4))
    counts = []
    for i, c in enumerate(stages):
        inc_flops, inc_dollars = costs.increment(stages[: i + 1])
        np.add(flops, inc_flops, out=flops, where=left)
        np.add(dollars, inc_dollars, out=dollars, where=left)
        np.add(latency, costs.latency(stages[: i + 1]), out=latency, where=left)
        if i < len(choices):
            masks = np.stack([mask for _, mask in choices[i]])
            stop = left & masks[[combo[i] for combo in combos]]
        else:
            stop = left.copy()
        np.copyto(score, outcomes[c].score, where=stop)
        counts.append(np.count_nonzero(stop, axis=1))
        left &= ~stop
    sums = [m.sum(axis=1) for m in (score, flops, dollars, latency)]
    return [
        Point(
            chain=Chain(stages=stages, rules=tuple(choices[i][k][0] for i, k in enumerate(combo))),
            accuracy=float(sums[0][j]) / n,
            flops_units=float(sums[1][j]) / n,
            dollars=float(sums[2][j]) / n,
            latency_s=float(sums[3][j]) / n,
            shares=[int(cnt[j]) / n for cnt in counts],
            scores=score[j],
            flops=flops[j],
        )
        for j, combo in enumerate(combos)
    ]


def plurality_outcomes(o: Outcomes, pool: ModelPool, profile: TokenProfile) -> Outcomes | None:
    """`o`'s graph as a plurality stage, from the same stored runs: per item the voter that speaks for the
    plurality of the output's inputs gives the answer and score, agreement is observed as the runtime observes
    it (the share of the other answering nodes that ran agreeing), and spend is every node's but the output's
    (latency: the slowest voter's chain). None when the graph cannot answer by plurality."""
    stage = Stage(graph=o.spec, answer=PLURALITY)
    if o.answer != OUTPUT or plurality_problems(stage):
        return None
    spec = o.spec
    output = spec.output_id()
    parts = plurality_parts(spec)
    voters = [p.output_id() for p in parts]
    answering = [n.id for n in spec.nodes if n.role in ANSWERING_ROLES and n.id != output]
    items = []
    for it in o.result.items:
        voter = plurality_voter([(v, it.node_answers.get(v)) for v in voters])
        final = answer_form(it.node_answers.get(voter)) if voter else None
        others = [n for n in answering if n != voter and n in it.node_answers]
        agreeing = sum(1 for n in others if answer_form(it.node_answers[n]) == final)
        agreement = (agreeing / len(others) if final is not None else 0.0) if others else None
        usage = {n: u for n, u in it.node_usage.items() if n != output}
        latency = max(_path_latency(p, usage, set()) for p in parts)
        items.append(
            it.model_copy(
                update={
                    "answer": it.node_answers.get(voter) if voter else None,
                    "score": it.node_scores.get(voter, 0.0) if voter else 0.0,
                    "agreement": agreement,
                    "verified": None,
                    "logprob": usage[voter].logprob if voter in usage else None,
                    "node_usage": usage,
                    "latency_s": latency,
                    "cost_usd": sum(u.cost_usd for u in usage.values()),
                }
            )
        )
    flops = stage_flops(RouterSpec(stages=[stage]), pool, profile)[0]
    accuracy = float(np.mean([it.score for it in items])) if items else 0.0
    name = f"{o.name}-plurality"
    result = o.result.model_copy(
        update={"items": items, "graph_name": name, "flops_units": flops, "accuracy": accuracy}
    )
    return Outcomes(name, PLURALITY, spec, result, answer=PLURALITY)


def voters_key(spec: GraphSpec) -> str:
    """What a plurality stage of `spec` runs: every node but the output, and the edges among them. Graphs that
    differ only in their output (a chosen graph and its cheaper outputs) share one plurality stage."""
    output = spec.output_id()
    nodes = sorted((n.id, n.role, n.model, json.dumps(n.params, sort_keys=True)) for n in spec.nodes if n.id != output)
    edges = sorted((a, b) for a, b in spec.edges if output not in (a, b))
    return json.dumps([nodes, edges])


def plurality_sets(
    lists: Sequence[list[Outcomes]], pool: ModelPool, profile: TokenProfile
) -> list[tuple[Outcomes, ...]]:
    """Parallel lists hold the same graphs on different items (fit, test). Each graph's plurality stage, from
    every list, once per distinct set of voters (`voters_key`), where every list offers one."""
    out, seen = [], set()
    for group in zip(*lists):
        key = voters_key(group[0].spec)
        stages = tuple(plurality_outcomes(o, pool, profile) for o in group)
        if key in seen or any(s is None for s in stages):
            continue
        seen.add(key)
        out.append(tuple(s for s in stages if s is not None))
    return out


def _path_latency(graph: GraphSpec, usage: dict, reused: set[str]) -> float:
    """The longest path of node latencies through `graph` to its output (its nodes run in order; a node read
    from an earlier stage takes no time)."""
    done: dict[str, float] = {}

    def finish(node_id: str) -> float:
        if node_id not in done:
            before = max((finish(p) for p in graph.predecessors(node_id)), default=0.0)
            use = usage.get(node_id)
            own = use.latency_s if use is not None and node_id not in reused else 0.0
            done[node_id] = before + own
        return done[node_id]

    return finish(graph.output_id())


def _reuse_latency(o: Outcomes, reused: set[str]) -> np.ndarray:
    """Per item, `o`'s stage latency when the nodes in `reused` were run by earlier stages (`_path_latency` on
    every item at once: node by node over arrays of items, not item by item)."""
    graphs = plurality_parts(o.spec) if o.answer == PLURALITY else [o.spec]
    items = o.result.items
    own: dict[str, np.ndarray] = {}

    def node_latency(node_id: str) -> np.ndarray:
        if node_id not in own:
            own[node_id] = np.array(
                [
                    it.node_usage[node_id].latency_s
                    if node_id in it.node_usage and node_id not in reused and it.node_usage[node_id] is not None
                    else 0.0
                    for it in items
                ],
                dtype=float,
            )
        return own[node_id]

    def path(graph: GraphSpec) -> np.ndarray:
        done: dict[str, np.ndarray] = {}

        def finish(node_id: str) -> np.ndarray:
            if node_id not in done:
                preds = [finish(p) for p in graph.predecessors(node_id)]
                before = np.maximum.reduce(preds) if preds else np.zeros(len(items))
                done[node_id] = before + node_latency(node_id)
            return done[node_id]

        return finish(graph.output_id())

    return np.maximum.reduce([path(g) for g in graphs]) if len(graphs) > 1 else path(graphs[0])
