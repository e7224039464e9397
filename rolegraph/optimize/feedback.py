"""The feedback step of Agent-REINFORCE: a *textual gradient* (what helped, what hurt) plus a
structured update of the probabilities, validated against the probabilistic graph before use.
Keys the models below do not know are ignored (an LLM's reply may carry extras); the known ones are
validated.

An update names target probabilities; `apply_update` moves each current probability a step
toward its target (p <- p + step * (target - p)), so a step size of 1 adopts the agent's numbers
and smaller steps keep some of the old belief, as a learning rate does for a gradient.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.optimize.choices import Choices, from_graph, realise
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import OUTPUT_ID, SearchSpace
from rolegraph.optimize.stage_feedback import closed_targets
from rolegraph.optimize.trace import Evaluation, FeedbackRecord

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
EDGE_ARROW = "->"
"""Edges may also be written as "src->dst" keys (the form the LLM agent's schema asks for)."""


def _split_edge(key: str) -> tuple[str, str]:
    src, _, dst = key.partition(EDGE_ARROW)
    return src.strip(), dst.strip()


SUM_TOLERANCE = 1e-6
HISTORY_EXCHANGES = 2


class TextualGradient(BaseModel):
    model_config = ConfigDict(extra="ignore")

    helped: list[str] = Field(default_factory=list)
    hurt: list[str] = Field(default_factory=list)
    summary: str = ""


class EdgeProb(BaseModel):
    model_config = ConfigDict(extra="ignore")

    src: str
    dst: str
    prob: Prob


class ProposedNode(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    role: str
    model: str


class ProposedGraph(BaseModel):
    """A graph to evaluate next, in slot ids (n0, n1, ... and `out`). Nodes may also come keyed by id
    (`{"n0": {"role": ..., "model": ...}}`, the form the LLM agent's schema asks for: ids stay unique)."""

    model_config = ConfigDict(extra="ignore")

    nodes: list[ProposedNode]
    edges: list[tuple[str, str]] = Field(default_factory=list)

    @field_validator("nodes", mode="before")
    @classmethod
    def _keyed_nodes(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return [{"id": k, **v} if isinstance(v, dict) else v for k, v in value.items()]
        return value

    @field_validator("edges", mode="before")
    @classmethod
    def _arrow_edges(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_split_edge(e) if isinstance(e, str) else e for e in value]
        return value

    def to_spec(self, name: str = "proposed") -> GraphSpec:
        return GraphSpec(
            name=name,
            nodes=[NodeSpec(id=n.id, role=n.role, model=n.model) for n in self.nodes],
            edges=list(self.edges),
            output=OUTPUT_ID,
        )

    @classmethod
    def from_spec(cls, spec: GraphSpec) -> ProposedGraph:
        return cls(
            nodes=[ProposedNode(id=n.id, role=n.role, model=n.model) for n in spec.nodes], edges=list(spec.edges)
        )


class GraphUpdate(BaseModel):
    """Target probabilities. Categorical targets may be partial: the rest of the mass keeps its shape."""

    model_config = ConfigDict(extra="ignore")

    presence: dict[str, Prob] = Field(default_factory=dict)
    models: dict[str, dict[str, Prob]] = Field(default_factory=dict)
    roles: dict[str, dict[str, Prob]] = Field(default_factory=dict)
    edges: list[EdgeProb] = Field(default_factory=list)
    proposed_graph: ProposedGraph | None = None
    more_proposals: list[ProposedGraph] = Field(default_factory=list)
    """Further graphs to score next iteration, after `proposed_graph` (as many as the iteration has room for)."""

    @field_validator("edges", mode="before")
    @classmethod
    def _keyed_edges(cls, value: Any) -> Any:
        """`{"n0->out": 0.9}` as `[{"src": "n0", "dst": "out", "prob": 0.9}]`."""
        if isinstance(value, dict):
            return [dict(zip(("src", "dst"), _split_edge(str(k))), prob=v) for k, v in value.items()]
        return value

    def is_empty(self) -> bool:
        return not (
            self.presence or self.models or self.roles or self.edges or self.proposed_graph or self.more_proposals
        )

    def brief(self) -> dict:
        """A compact dict for traces and reports."""
        out = self.model_dump(mode="json", exclude_defaults=True)
        return {k: v for k, v in out.items() if v}


class Feedback(BaseModel):
    gradient: TextualGradient
    update: GraphUpdate
    agent: str
    fallback: str | None = None
    fallback_reason: str | None = None
    """Why an LLM agent's step fell back: context, invalid, empty (changed nothing), timeout or error."""
    attempts: int = 1
    notes: list[str] = Field(default_factory=list)
    """Repairs made to an accepted reply (a near-miss rescaled)."""

    def record(self, iteration: int) -> FeedbackRecord:
        return FeedbackRecord(
            iteration=iteration,
            agent=self.agent,
            summary=self.gradient.summary,
            helped=self.gradient.helped,
            hurt=self.gradient.hurt,
            update=self.update.brief(),
            fallback=self.fallback,
            fallback_reason=self.fallback_reason,
            attempts=self.attempts,
            notes=self.notes,
        )


@dataclass
class PilotRow:
    label: str
    graph: GraphSpec
    accuracy: float
    latency_s: float
    dollars: float
    budget_cost: float
    objective: float
    n: int


@dataclass
class InitContext:
    space: SearchSpace
    pg: ProbabilisticGraph
    pilot: list[PilotRow]
    task: str = ""
    seed: int = 0


@dataclass
class StepContext:
    space: SearchSpace
    pg: ProbabilisticGraph
    iteration: int
    evaluations: list[Evaluation]
    best_graph: GraphSpec | None
    best_objective: float | None
    best_n: int
    history: list[FeedbackRecord] = field(default_factory=list)
    seed: int = 0
    task: str = ""
    scored: list[tuple[GraphSpec, float, int]] = field(default_factory=list)
    """Every graph scored so far: (graph, shrunk pooled training objective, items), best first."""
    evidence: list[tuple[GraphSpec, float, int]] = field(default_factory=list)
    """Every graph scored so far: (graph, pooled objective adjusted for batch difficulty, items)."""

    @classmethod
    def of_search(
        cls,
        ctx: SearchContext,
        *,
        space: SearchSpace,
        pg: ProbabilisticGraph,
        iteration: int,
        evaluations: list[Evaluation],
        history: list[FeedbackRecord],
        seed: int,
        evidence: bool = False,
    ) -> StepContext:
        """What an agent's step reads, taken from the search as it stands (its leader, leaderboard and,
        with `evidence`, the difficulty-adjusted evidence), so every Agent-REINFORCE variant builds it alike."""
        best_graph, best_objective, best_n = ctx.best()
        return cls(
            space=space,
            pg=pg,
            iteration=iteration,
            evaluations=evaluations,
            best_graph=best_graph,
            best_objective=best_objective,
            best_n=best_n,
            history=list(history),
            seed=seed,
            task=ctx.task.name,
            scored=ctx.leaderboard(),
            evidence=ctx.evidence() if evidence else [],
        )


class FeedbackAgent(Protocol):
    """Reads evaluations, writes a textual gradient and a validated update."""

    name: str

    async def initial(self, ctx: InitContext) -> Feedback: ...

    async def step(self, ctx: StepContext) -> Feedback: ...


# --- validation ------------------------------------------------------------------------------------
def _check_categorical(kind: str, node: str, targets: dict[str, float], allowed: tuple[str, ...]) -> list[str]:
    problems = [
        f"{kind}s of {node}: unknown {kind} '{name}' (known: {', '.join(allowed)})"
        for name in targets
        if name not in allowed
    ]
    total = sum(targets.values())
    if total > 1 + SUM_TOLERANCE:
        problems.append(f"{kind}s of {node}: target probabilities sum to {total:.3f} > 1")
    return problems


def validate_update(update: GraphUpdate, pg: ProbabilisticGraph) -> list[str]:
    """Every problem with `update` against `pg` (empty: usable). Range checks are pydantic's."""
    space = pg.space
    w = space.worker_slots
    problems: list[str] = []
    for node in update.presence:
        idx = pg.node_index(node)
        if idx is None or idx == w:
            problems.append(f"presence: unknown worker node id '{node}' (workers are n0..n{w - 1})")
    for node, targets in update.models.items():
        if pg.node_index(node) is None:
            problems.append(f"models: unknown node id '{node}'")
        else:
            problems += _check_categorical("model", node, targets, space.models)
    for node, targets in update.roles.items():
        idx = pg.node_index(node)
        if idx is None:
            problems.append(f"roles: unknown node id '{node}'")
        else:
            allowed = space.output_roles if idx == w else space.worker_roles
            problems += _check_categorical("role", node, targets, allowed)
    for e in update.edges:
        s, d = pg.node_index(e.src), pg.node_index(e.dst)
        if s is None or d is None:
            bad = e.src if s is None else e.dst
            problems.append(f"edge {e.src}->{e.dst}: unknown node id '{bad}'")
        elif s >= d:
            problems.append(
                f"edge {e.src}->{e.dst} would create a cycle (edges go from a lower slot to a "
                f"higher one or to {OUTPUT_ID})"
            )
        elif pg.edge_index(s, d) is None:
            problems.append(f"edge {e.src}->{e.dst} is not allowed in this space (workers feed only the output)")
    problems += closed_targets(update, pg)  # a staged space's closed choices, which sampling would drop silently
    if update.proposed_graph is not None:
        problems += validate_proposed(update.proposed_graph, pg)
    for proposed in update.more_proposals:
        problems += validate_proposed(proposed, pg)
    return problems


def validate_proposed(proposed: ProposedGraph, pg: ProbabilisticGraph) -> list[str]:
    import networkx as nx

    space = pg.space
    ids = [n.id for n in proposed.nodes]
    problems = [f"proposed graph: unknown node id '{i}'" for i in ids if pg.node_index(i) is None]
    if len(set(ids)) != len(ids):
        problems.append("proposed graph: duplicate node ids")
    if OUTPUT_ID not in ids:
        problems.append(f"proposed graph: no output node '{OUTPUT_ID}'")
    for n in proposed.nodes:
        if n.model not in space.models:
            problems.append(f"proposed graph: node {n.id}: unknown model '{n.model}'")
        allowed = space.output_roles if n.id == OUTPUT_ID else space.worker_roles
        if n.role not in allowed:
            problems.append(f"proposed graph: node {n.id}: role '{n.role}' not allowed (known: {', '.join(allowed)})")
    for s, d in proposed.edges:
        if s not in ids or d not in ids:
            problems.append(f"proposed graph: edge {s}->{d} names an unknown node id")
    if problems:
        return problems
    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(ids)
    g.add_edges_from(proposed.edges)
    if not nx.is_directed_acyclic_graph(g):
        cycle = [u for u, _ in nx.find_cycle(g)]
        return [f"proposed graph: edges create a cycle {' -> '.join(cycle + cycle[:1])}"]
    spec = proposed.to_spec()
    if from_graph(space, spec) is None:
        return ["proposed graph: does not fit the search space (too many nodes or an edge it does not allow)"]
    if (over := space.overflow(spec)) is not None:  # `fits` is false for either reason: say which
        return [f"proposed graph: {over}"]
    if not space.fits(spec):
        return [f"proposed graph: costs {space.cost(spec):.3g}, over the budget {space.budget:g}"]
    return []


# --- application -----------------------------------------------------------------------------------
def _toward(current: float, target: float, step: float) -> float:
    return current + step * (target - current)


def _categorical_target(current: np.ndarray, names: tuple[str, ...], targets: dict[str, float]) -> np.ndarray:
    """Named targets fixed; the remaining mass spread over the others in their current proportions."""
    fixed = np.array([n in targets for n in names])
    out = current.copy()
    mass = max(0.0, 1.0 - sum(targets.values()))
    rest = current[~fixed].sum()
    for k, n in enumerate(names):
        if fixed[k]:
            out[k] = targets[n]
        elif rest > 0:
            out[k] = mass * current[k] / rest
        else:
            out[k] = mass / max(1, int((~fixed).sum()))
    total = out.sum()
    return out / total if total > 0 else np.full(len(names), 1.0 / len(names))


def _slot(pg: ProbabilisticGraph, node_id: str) -> int:
    """The slot of a node `validate_update` accepted (it turns unknown node ids away first)."""
    i = pg.node_index(node_id)
    if i is None:
        raise ValueError(f"node '{node_id}' is not a slot of this search space")
    return i


def apply_update(pg: ProbabilisticGraph, update: GraphUpdate, step: float) -> ProbabilisticGraph:
    """A new ProbabilisticGraph moved `step` of the way toward the update's targets."""
    new = ProbabilisticGraph(pg.space, pg.logits.copy())
    probs = pg.probs()
    space = pg.space
    w = space.worker_slots
    for node, target in update.presence.items():
        i = _slot(pg, node)
        new.set_bernoulli("presence", i, _toward(float(probs.presence[i]), target, step))
    for node, targets in update.models.items():
        i = _slot(pg, node)
        cur = probs.out_model if i == w else probs.models[i]
        goal = _categorical_target(cur, space.models, targets)
        new.set_categorical("out_model" if i == w else "models", (1 - step) * cur + step * goal, None if i == w else i)
    for node, targets in update.roles.items():
        i = _slot(pg, node)
        names = space.output_roles if i == w else space.worker_roles
        cur = probs.out_role if i == w else probs.roles[i]
        goal = _categorical_target(cur, names, targets)
        new.set_categorical("out_role" if i == w else "roles", (1 - step) * cur + step * goal, None if i == w else i)
    for e in update.edges:
        k = pg.edge_index(_slot(pg, e.src), _slot(pg, e.dst))
        if k is None:
            raise ValueError(f"no edge {e.src} -> {e.dst} in this search space")
        new.set_bernoulli("edges", k, _toward(float(probs.edges[k]), e.prob, step))
    return new


def proposed_choices(update: GraphUpdate, pg: ProbabilisticGraph) -> tuple[Choices, GraphSpec] | None:
    """The validated proposed graph as slot choices and its (normalised) graph."""
    if update.proposed_graph is None:
        return None
    c = from_graph(pg.space, update.proposed_graph.to_spec())
    return None if c is None else realise(pg.space, c, "proposed")
