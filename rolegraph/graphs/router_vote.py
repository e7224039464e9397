"""A router's plurality stage (`answer: plurality`): its voters, each the graph of its ancestors ending at it
(router.py `plurality_parts`), run side by side in place of the stage's graph, whose output node never runs; the
stage answers with their plurality.

Each voter is compiled as a graph of its own, so that it can run, stop and be accounted for alone. A graph's
coalescer (rolegraph.graphs.coalesce) only groups nodes of that graph, so five solvers of one model reading
identical messages, one per voter, would each send the whole prompt where the stage's graph sends one `n=5`
request, and the stage would cost more than `route fit` predicted from the graph's coalesced runs. So the voters
of one run share one `Coalescer`, built from the stage graph's groups as its compilation found them (which honours
`Settings(coalesce=False)`, the node param `coalesce: false` and dynamic graphs exactly as a graph run does),
restricted to the nodes the stage runs: never the output, nor a node read from an earlier stage, since a group
size counting those would make the first member wait for members that never come.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from rolegraph.agents.registry import RoleRegistry
from rolegraph.errors import BudgetExceededError, NodeFailedError
from rolegraph.graphs.coalesce import Coalescer, running_groups
from rolegraph.graphs.nodes import StageInput
from rolegraph.graphs.result import RunResult
from rolegraph.graphs.router import plurality_parts
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.graphs.schedule import Topology, slotted_critical_path_s
from rolegraph.graphs.signals import plurality_voter
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.provenance import Simulation, simulation_of
from rolegraph.tools.toolbox import ToolBox  # already loaded by then: in the hints that resolve at run time


class PluralityStage:
    """One plurality stage of a compiled router: its voters' graphs and the coalescing groups they share."""

    def __init__(
        self,
        graph: CompiledGraph,
        reused: Iterable[str],
        hub: ModelHub,
        *,
        toolbox: ToolBox | None,
        roles: RoleRegistry,
        configured_simulation: Simulation,
    ):
        self.graph = graph
        self.parts = [CompiledGraph(p, hub, toolbox=toolbox, roles=roles) for p in plurality_parts(graph.spec)]
        self.groups = running_groups(graph.coalesce, {graph.output, *reused})
        self.configured_simulation = configured_simulation

    async def run(self, item: Item | str, *, seed: int, answer_kind: str | None, stage_in: StageInput) -> RunResult:
        """The voters run side by side (each reading what earlier stages gave it, all sharing one coalescer); the
        answer is their plurality's, spoken by its first voter (rolegraph.graphs.signals.plurality_voter)."""
        coalescer = Coalescer(self.groups)  # one per run, as a graph makes one per run
        runs = await asyncio.gather(
            *(
                part.run(
                    item,
                    seed=seed,
                    answer_kind=answer_kind,
                    stage=StageInput(
                        stage_in.meter, {k: v for k, v in stage_in.given.items() if k in part.plans}, stage_in.elapsed
                    ),
                    coalescer=coalescer,
                )
                for part in self.parts
            ),
            return_exceptions=True,
        )
        failed = next((r for r in runs if isinstance(r, BaseException)), None)
        if failed is not None:
            if isinstance(failed, BudgetExceededError | NodeFailedError):  # what every voter spent, not its own
                ran = [r if isinstance(r, RunResult) else getattr(r, "partial", None) for r in runs]
                done = [r for r in ran if isinstance(r, RunResult)]
                failed.partial = self.result(done, None, str(failed), coalescer.shared)
            raise failed
        done = [r for r in runs if isinstance(r, RunResult)]
        voter = plurality_voter([(r.output_node, r.answer) for r in done])
        speaker = next((r for r in done if r.output_node == voter), done[0])
        return self.result(done, speaker if voter is not None else None, None, coalescer.shared)

    def result(
        self, done: list[RunResult], speaker: RunResult | None, error: str | None, shared: dict[str, str]
    ) -> RunResult:
        """The stage's result from its voters' runs: `speaker`'s answer (None: no plurality, or the stage stopped
        part way with `error`), and what every voter spent. Its latency is the slowest voter's, plus what the voters
        waited for one another's slots (`slot_wait_s`)."""
        nodes = [t for r in done for t in r.nodes]
        measured = bool(nodes) and not self.graph.modelled  # no node traced: nothing to lay out
        wait = slot_wait_s(done, self.graph.model_slots, shared) if measured else 0.0
        return RunResult(
            graph_name=self.graph.spec.name,
            answer=speaker.answer if speaker is not None else None,
            output_node=(speaker or done[0]).output_node if done else "",
            nodes=nodes,
            tokens_in=sum(r.tokens_in for r in done),
            tokens_out=sum(r.tokens_out for r in done),
            cost_usd=sum(r.cost_usd for r in done),
            latency_s=max((r.latency_s for r in done), default=0.0) + wait,
            critical_path_s=max((r.critical_path_s for r in done), default=0.0),
            flops_units=sum(r.flops_units for r in done),
            simulated=all(r.simulated for r in done),
            simulation=simulation_of(t.simulated for t in nodes) or self.configured_simulation,
            served=RunResult.served_by(nodes),
            world=next((r.world for r in done if r.world is not None), None),
            error=error or next((r.error for r in done if r.error is not None), None),
            notes=[n for r in done for n in r.notes],
        )


def slot_wait_s(done: list[RunResult], slots: Mapping[str, int], shared: Mapping[str, str]) -> float:
    """Seconds a measured stage's voters waited for one another on their models' slots: each voter's run lays out
    only its own nodes (`schedule.alone_wall_s`), so five separate voters on a one-slot model read as one. The
    voters' nodes laid out together, less the longest voter laid out alone; a coalesced request (`shared`: the
    voters' common coalescer) holds one slot for all its members, as in a graph run. A modelled run has no slots."""
    joint_latency: dict[str, float] = {}
    joint_models: dict[str, str] = {}
    joint_shared: dict[str, str] = {}
    order: list[str] = []
    preds: dict[str, tuple[str, ...]] = {}
    alone = 0.0
    for i, res in enumerate(done):
        topo = Topology.as_run(res.nodes)
        latency = {t.id: t.latency_s for t in res.nodes}
        models = {t.id: t.model for t in res.nodes}
        mine = {n: key for n, key in shared.items() if n in latency}
        alone = max(alone, slotted_critical_path_s(topo, latency, models, slots, mine))
        own = {n: f"{i}/{n}" for n in topo.order}  # voters may hold nodes of one id (a common ancestor)
        order += own.values()
        preds |= {own[n]: tuple(own[p] for p in topo.preds[n]) for n in topo.order}
        joint_latency |= {own[n]: v for n, v in latency.items()}
        joint_models |= {own[n]: m for n, m in models.items()}
        joint_shared |= {own[n]: key for n, key in mine.items()}
    joint = slotted_critical_path_s(Topology(tuple(order), preds), joint_latency, joint_models, slots, joint_shared)
    return max(0.0, joint - alone)
