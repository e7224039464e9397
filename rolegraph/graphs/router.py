"""`RouterSpec`: a cascade of graphs. Run the cheapest stage; stop there when its stop rule holds on what a
deployment can observe (rolegraph.graphs.signals), else escalate to the next stage; the last stage always answers.

A later stage reuses what earlier stages computed: a node equal to an earlier stage's node (same id, role,
model and params, fed by equal nodes) is the same call (same messages and sample index, rolegraph.graphs.nodes
`node_sample`), so it is not run again; its output is read instead. A stage-2 vote whose solvers include
stage 1's solvers therefore only adds the new samples and its fuser. Its cost counts once.

A stage may answer by the plurality of its voters instead of its output node (`answer: plurality`): it runs
every node of its graph but the output (for a vote, the solvers but not the fuser) and answers with the answer
most of the output's inputs give. Aggregators are the expensive part of a vote (a fuser reads every answer),
so a first stage that stops when its samples agree, and escalates to the same graph with its fuser (which
then only adds the fuser), is the cheapest stage a vote offers (Adaptive-Consistency, Aggarwal et al. 2023).

A router file is YAML or JSON (`kind: router`, `stages: [{graph: ..., stop: {...}, answer: ...}, ...]`); files
are read and written by rolegraph.graphs.router_io, run by rolegraph.graphs.router_runtime.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Final, Literal

from pydantic import ConfigDict, Field, Strict, StrictBool, model_validator

from rolegraph.errors import GraphError
from rolegraph.graphs.analysis import TokenProfile, node_cost_estimates, node_flops_units
from rolegraph.graphs.checked import CheckedModel
from rolegraph.graphs.signals import ANSWERING_ROLES, Signals
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.graphs.validate import check_graph, validate_graph
from rolegraph.models.pool import ModelPool

ROUTER_KIND: Final = "router"
STAGE_SEP = "."
"""Node ids of a router's runs are `s<stage>.<node>`: a node id is unique within one stage only."""
AGREEMENT_EPS = 1e-9
Number = Annotated[float, Strict()]
"""A stop rule's threshold: an int or a float, never a bool or a string (lax pydantic would read YAML's `true` as
1.0 and "0.5" as 0.5, so a typo'd rule would validate as another rule), as node params are checked."""


def flat_id(stage: int, node_id: str) -> str:
    """The id of stage `stage`'s (1-based) node in a router's results."""
    return f"s{stage}{STAGE_SEP}{node_id}"


class StopRule(CheckedModel):
    """Stop at a stage when every condition given holds, or (`or_min_logprob`) when the answer's mean token
    log-probability alone is high enough; an unparsable answer always escalates. The alternative lets a vote stop
    when its voters agree *or* its speaker is sure of itself: two signals that each catch right answers the other
    misses (a confident lone answer among disagreeing voters)."""

    model_config = ConfigDict(extra="forbid")

    min_agreement: Number | None = Field(default=None, ge=0.0, le=1.0, description="share of answering nodes agreeing")
    require_verified: StrictBool = Field(default=False, description="a verifier judged the answer correct")
    min_logprob: Number | None = Field(default=None, le=0.0, description="mean token log-probability of the answer")
    or_min_logprob: Number | None = Field(
        default=None,
        le=0.0,
        description="or stop, whatever the other conditions say, when the answer's mean token log-probability is at "
        "least this (needs min_agreement or require_verified: alone it is min_logprob)",
    )

    @model_validator(mode="after")
    def _alternative_needs_conditions(self) -> StopRule:
        if self.or_min_logprob is not None and self.min_agreement is None and not self.require_verified:
            raise ValueError("or_min_logprob is an alternative to min_agreement or require_verified; give one of them")
        return self

    def passes(self, s: Signals) -> bool:
        if not s.parsable:
            return False
        if self.or_min_logprob is not None and s.logprob is not None and s.logprob >= self.or_min_logprob:
            return True
        if self.min_agreement is not None and (s.agreement is None or s.agreement < self.min_agreement - AGREEMENT_EPS):
            return False
        if self.require_verified and s.verified is not True:
            return False
        return self.min_logprob is None or (s.logprob is not None and s.logprob >= self.min_logprob)

    def text(self) -> str:
        parts = ["answer parsed"]
        if self.min_agreement is not None:
            parts.append(f"agreement >= {self.min_agreement:.2f}")
        if self.require_verified:
            parts.append("verifier accepts")
        if self.min_logprob is not None:
            parts.append(f"mean logprob >= {self.min_logprob:.2f}")
        if self.or_min_logprob is None:
            return " and ".join(parts)
        return f"{parts[0]} and ({' and '.join(parts[1:])} or mean logprob >= {self.or_min_logprob:.2f})"


AnswerMode = Literal["output", "plurality"]
OUTPUT: Final = "output"
PLURALITY: Final = "plurality"
MIN_VOTERS = 2


class Stage(CheckedModel):
    model_config = ConfigDict(extra="forbid")

    graph: GraphSpec
    stop: StopRule | None = None  # None on the last stage: it always answers
    answer: AnswerMode = Field(
        default=OUTPUT, description="output: the graph's output node answers; plurality: its inputs vote, it never runs"
    )

    @property
    def plurality(self) -> bool:
        return self.answer == PLURALITY

    def runs(self) -> list[NodeSpec]:
        """The nodes this stage runs (all of its graph's, but the output in a plurality stage)."""
        if not self.plurality:
            return list(self.graph.nodes)
        output = self.graph.output_id()
        return [n for n in self.graph.nodes if n.id != output]


def plurality_parts(graph: GraphSpec) -> list[GraphSpec]:
    """A plurality stage's voters, each as the graph of its ancestors ending at it (the output's inputs, in edge
    order): these run side by side in place of the graph, whose output node never runs."""
    output = graph.output_id()
    parts = []
    for voter in graph.predecessors(output):
        keep: set[str] = {voter}
        todo = [voter]
        while todo:
            for p in graph.predecessors(todo.pop()):
                if p not in keep:
                    keep.add(p)
                    todo.append(p)
        nodes = [n for n in graph.nodes if n.id in keep]
        edges = [(a, b) for a, b in graph.edges if a in keep and b in keep]
        parts.append(GraphSpec(name=f"{graph.name}:{voter}", nodes=nodes, edges=edges, output=voter))
    return parts


def plurality_problems(stage: Stage) -> list[str]:
    """Why a stage's graph cannot answer by plurality (empty: it can)."""
    graph = stage.graph
    output = graph.output_id()
    voters = [p for p in graph.predecessors(output) if graph.node(p).role in ANSWERING_ROLES]
    if len(voters) < MIN_VOTERS:
        return [
            f"answer: plurality needs at least {MIN_VOTERS} answering nodes (solvers, verifiers, fusers) feeding the "
            f"output '{output}'; it has {len(voters)}"
        ]
    seen: dict[str, str] = {}
    for part in plurality_parts(graph):
        for n in part.nodes:
            if n.id in seen:
                return [
                    f"answer: plurality needs the output's inputs to share no nodes ('{n.id}' feeds both "
                    f"'{seen[n.id]}' and '{part.output}')"
                ]
            seen[n.id] = part.output or ""
    return []


class RouterSpec(CheckedModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["router"] = ROUTER_KIND
    name: str = "router"
    description: str | None = None
    stages: list[Stage] = Field(min_length=1)
    fit: dict | None = None
    """What `rolegraph route fit` measured (validation and test points); informational, never read at run time."""

    def reuse(self) -> list[dict[str, str]]:
        """Per stage, {node id: flat id of the earlier stage's equal node it reads instead of running}."""
        return reuse_map(self)

    @property
    def nodes(self) -> list[NodeSpec]:
        """Every node a run of the router may execute, with flat ids (reused nodes once, in their first stage)."""
        out = []
        for i, (stage, reused) in enumerate(zip(self.stages, self.reuse()), start=1):
            out += [n.model_copy(update={"id": flat_id(i, n.id)}) for n in stage.runs() if n.id not in reused]
        return out

    @property
    def node_ids(self) -> list[str]:
        return [n.id for n in self.nodes]


def _signatures(spec: GraphSpec) -> dict[str, str | None]:
    """A node's identity as a call: its id, role, model, params and (recursively) its inputs, in edge order. None
    for a node that never runs as itself, so is never shared between stages: a fan-out group's nodes and a loop's
    (from its `to` on) run as copies and rounds (`search[1]`, `solve@2`: no trace `solve` to read), and a node
    reading one of them reads what those copies and rounds gave, which another stage's equal node does not."""
    sigs: dict[str, str | None] = {}
    nodes = {n.id: n for n in spec.nodes}
    dynamic = {lp.target for lp in spec.loops} | {n for f in spec.fanout for n in f.nodes}

    def sig(node_id: str, stack: tuple[str, ...] = ()) -> str | None:
        if node_id not in sigs:
            if node_id in stack:  # a cycle: validation reports it; give a unique signature meanwhile
                return f"cycle:{node_id}"
            n = nodes[node_id]
            preds = [sig(p, (*stack, node_id)) for p in spec.predecessors(node_id) if p in nodes]
            shared = node_id not in dynamic and None not in preds
            sigs[node_id] = (
                json.dumps([n.id, n.role, n.model, n.params, preds], sort_keys=True, default=str) if shared else None
            )
        return sigs[node_id]

    for node_id in nodes:
        sig(node_id)
    return sigs


def reuse_map(router: RouterSpec) -> list[dict[str, str]]:
    """See `RouterSpec.reuse`: the first earlier stage holding an equal node is the one read."""
    seen: dict[str, str] = {}
    out: list[dict[str, str]] = []
    for i, stage in enumerate(router.stages, start=1):
        reused: dict[str, str] = {}
        runs = {n.id for n in stage.runs()}
        for node_id, sig in _signatures(stage.graph).items():
            if node_id not in runs or sig is None:  # a plurality stage's output never runs; see `_signatures`
                continue
            if sig in seen:
                reused[node_id] = seen[sig]
            else:
                seen[sig] = flat_id(i, node_id)
        out.append(reused)
    return out


def stage_flops(router: RouterSpec, pool: ModelPool, profile: TokenProfile) -> list[float]:
    """FLOPs units each stage adds when it runs (its nodes minus those it reuses)."""
    return [
        sum(v for n, v in node_flops_units(stage.graph, pool, profile).items() if n not in reused and n in _ids(stage))
        for stage, reused in zip(router.stages, router.reuse())
    ]


def _ids(stage: Stage) -> set[str]:
    return {n.id for n in stage.runs()}


def stage_costs(router: RouterSpec, pool: ModelPool, profile: TokenProfile) -> list[tuple[int, float]]:
    """(tokens, dollars) each stage adds when it runs, estimated at `profile`."""
    out = []
    for stage, reused in zip(router.stages, router.reuse()):
        est = [
            v
            for n, v in node_cost_estimates(stage.graph, pool, profile).items()
            if n not in reused and n in _ids(stage)
        ]
        out.append((sum(t for t, _ in est), sum(d for _, d in est)))
    return out


def validate_router(router: RouterSpec, pool: ModelPool | None, roles: Iterable[str] | None = None) -> list[str]:
    """Every problem of `router`, one line each, naming the stage (empty list: valid)."""
    problems: list[str] = []
    last = len(router.stages)
    for i, stage in enumerate(router.stages, start=1):
        graph_problems = validate_graph(stage.graph, pool, roles)
        problems += [f"stage {i}: {p}" for p in graph_problems]
        if stage.plurality and not graph_problems:
            problems += [f"stage {i}: {p}" for p in plurality_problems(stage)]
        rule = stage.stop
        if i == last:
            if rule is not None:
                problems.append(f"stage {i}: the last stage always answers; remove its 'stop' rule")
            continue
        if rule is None:
            problems.append(f"stage {i}: needs a 'stop' rule (without one the stages after it never run)")
            continue
        if graph_problems:
            continue
        output = stage.graph.output_id()
        voters = [n for n in stage.graph.nodes if n.role in ANSWERING_ROLES and n.id != output]
        if stage.plurality:  # the answer is one voter's: the others are what agrees with it
            voters = voters[1:]
        if rule.min_agreement is not None and not voters:
            problems.append(
                f"stage {i}: min_agreement needs answering nodes besides the output (solvers, verifiers, fusers)"
            )
        if rule.require_verified and not any(n.role == "verifier" for n in stage.runs()):
            problems.append(f"stage {i}: require_verified needs a verifier node in the stage's graph")
        for field in ("min_logprob", "or_min_logprob"):
            if getattr(rule, field) is None or pool is None:
                continue
            answering = stage.graph.predecessors(output) if stage.plurality else [output]
            for model in dict.fromkeys(stage.graph.node(n).model for n in answering):
                if model in pool and not pool.get(model).logprobs:
                    problems.append(
                        f"stage {i}: {field} needs log-probabilities from '{model}' (the answering model): "
                        "set logprobs: true in its pool entry (the endpoint must return them)"
                    )
    return problems


def check_router(
    router: RouterSpec, pool: ModelPool | None = None, roles: Iterable[str] | None = None, source: str | None = None
) -> RouterSpec:
    """`router` if it is valid, else `GraphError` listing every problem (and the file, if given)."""
    problems = validate_router(router, pool, roles)
    if problems:
        raise GraphError(problems, source=source)
    return router


def check_spec(
    spec: GraphSpec | RouterSpec,
    pool: ModelPool | None = None,
    roles: Iterable[str] | None = None,
    source: str | None = None,
) -> GraphSpec | RouterSpec:
    """`check_router` for a router, `check_graph` for a graph: what every command taking either kind calls."""
    if isinstance(spec, RouterSpec):
        return check_router(spec, pool, roles, source)
    return check_graph(spec, pool, roles, source)
