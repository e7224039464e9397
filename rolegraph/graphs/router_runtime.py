"""Compile a `RouterSpec` onto LangGraph's functional API and run it: one task per stage, escalation a branch
in the entrypoint's body, so `stream_mode="updates"` shows which stages ran.

Each stage is a `CompiledGraph` run with the router's one budget meter (caps hold over the stages actually run)
and the outputs of the nodes it shares with earlier stages (router.py: equal nodes are read, not run again).
The result is a `RouterRunResult`: a `RunResult` whose nodes are every node that ran (flat ids `s<stage>.<id>`),
whose tokens, dollars, latency and FLOPs units are what the stages that ran spent, plus each stage's signals.
A plurality stage runs its voters (each the graph of its ancestors ending at it) side by side instead of its
graph, sharing one coalescer, and answers with their plurality; its output node never runs (router_vote.py).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.func import entrypoint, task
from pydantic import BaseModel, Field

from rolegraph.agents.registry import RoleRegistry
from rolegraph.errors import BudgetExceededError, GraphError, NodeFailedError
from rolegraph.graphs.budget import Budget, BudgetMeter
from rolegraph.graphs.inputs import ANSWER_KEY_FIELD, ANSWER_KEY_IN_STATE, check_state_agrees, question_text
from rolegraph.graphs.nodes import NodePlan, StageInput
from rolegraph.graphs.result import NodeTrace, RunResult, failed_tool_notes
from rolegraph.graphs.router import RouterSpec, check_router, flat_id, stage_flops
from rolegraph.graphs.router_io import router_hash
from rolegraph.graphs.router_vote import PluralityStage
from rolegraph.graphs.runtime import FREE_FORM_FAMILY, FREE_FORM_KIND, RUN_TOKEN_PREFIX, CompiledGraph
from rolegraph.graphs.signals import Signals, observe
from rolegraph.graphs.sync import refuse_running_loop, run_closing
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.provenance import REAL, SIMULATED, simulation_of
from rolegraph.tools.toolbox import ToolBox  # already loaded by then: in the hints that resolve at run time

ENTRY_NAME = "router"


class StageRun(BaseModel):
    """One stage that ran: its answer, what it observed, whether it stopped there, and what it added."""

    stage: int
    graph_name: str
    answer: str | None = None
    signals: Signals = Field(default_factory=Signals)
    stopped: bool = False
    reused: list[str] = Field(default_factory=list)  # node ids read from earlier stages
    tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    flops_units: float = 0.0
    error: str | None = None


class RouterRunResult(RunResult):
    stage: int = 0  # the stage that answered (1-based; 0 if none finished)
    stages: list[StageRun] = Field(default_factory=list)
    signals: Signals = Field(default_factory=Signals)  # the answering stage's


@dataclass
class RouterContext:
    """One router run's state, passed to the stage tasks as LangGraph's run context."""

    item: Item | str
    seed: int
    answer_kind: str | None
    family: str
    meter: BudgetMeter
    t0: float = field(default_factory=perf_counter)
    elapsed: float = 0.0
    outputs: dict[str, tuple[dict, NodeTrace]] = field(default_factory=dict)
    runs: list[tuple[StageRun, RunResult]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """The answer kind the stages run with (`inputs.run_inputs`): the one asked for, else the item's."""
        return self.answer_kind or (self.item.family if isinstance(self.item, Item) else FREE_FORM_KIND)


def questions_of(item: Item | str) -> tuple[str, ...]:
    """The forms of an item's question a router's input state may carry: its own `inputs_and_context` puts the
    bare question, `interop.graph_input` the question with its choices."""
    return (item,) if isinstance(item, str) else (item.question, question_text(item))


def item_of(inputs: dict) -> str:
    """The question behind a router input dict invoked without a context (interop.graph_input's layout): no
    answer key; an input state that carries one is refused (checkpoints and traces would hold the gold)."""
    if inputs.get(ANSWER_KEY_FIELD) is not None:
        raise GraphError([ANSWER_KEY_IN_STATE])
    return str(inputs["question"])


class CompiledRouter:
    """A router bound to a hub: one `CompiledGraph` per stage, and the LangGraph `Pregel` that runs them."""

    def __init__(
        self,
        router: RouterSpec,
        hub: ModelHub,
        *,
        toolbox: ToolBox | None = None,
        roles: RoleRegistry | None = None,
        checkpointer: BaseCheckpointSaver | None = None,
    ):
        self.router, self.spec, self.hub = router, router, hub
        roles = roles if roles is not None else RoleRegistry.default()
        check_router(router, hub.pool, roles=roles.names())
        self.stages: list[CompiledGraph] = []
        for stage in router.stages:
            graph = CompiledGraph(stage.graph, hub, toolbox=toolbox, roles=roles)
            toolbox = toolbox if toolbox is not None else graph.toolbox
            self.stages.append(graph)
        self.toolbox = toolbox
        self.reuse = router.reuse()
        self.simulated = all(g.simulated for g in self.stages)
        self.modelled = all(g.modelled for g in self.stages)
        self.runs_model_code = any(g.runs_model_code for g in self.stages)
        self.world = next((g.world for g in self.stages if g.world is not None), None)
        self.configured_simulation = simulation_of(g.configured_simulation == SIMULATED for g in self.stages) or REAL
        self.votes: list[PluralityStage | None] = [  # a plurality stage's voters, each compiled on its own
            PluralityStage(
                g, reused, hub, toolbox=toolbox, roles=roles, configured_simulation=self.configured_simulation
            )
            if stage.plurality
            else None
            for stage, g, reused in zip(router.stages, self.stages, self.reuse)
        ]
        # every stage's node plans under the flat ids of a router's run (`s<stage>.<id>`), for provenance
        self.plans: dict[str, NodePlan] = {
            flat_id(i + 1, node_id): plan for i, g in enumerate(self.stages) for node_id, plan in g.plans.items()
        }
        self._live: dict[str, RouterContext] = {}  # states of the runs in flight, by the token their tasks get
        self._run_ids = itertools.count()
        self.graph_hash = router_hash(router)
        self._flops: dict[str, list[float]] = {}
        self._tasks: list[Any] = [task(self._stage_fn(i), name=f"stage{i + 1}") for i in range(len(self.stages))]
        self.pregel = self._entrypoint(checkpointer)

    def stage_flops(self, family: str) -> list[float]:
        """FLOPs units each stage adds when it runs (0 where a model has no sizes)."""
        if family not in self._flops:
            from rolegraph.graphs.analysis import TOKEN_PROFILES, FlopsUnknownError

            profile = TOKEN_PROFILES.get(family)
            try:
                self._flops[family] = (
                    stage_flops(self.router, self.hub.pool, profile) if profile else [0.0] * len(self.stages)
                )
            except FlopsUnknownError:
                self._flops[family] = [0.0] * len(self.stages)
        return self._flops[family]

    def flops_units(self, family: str) -> float:
        """FLOPs units of a run that escalates to the last stage (the most a run can spend)."""
        return sum(self.stage_flops(family))

    def task_names(self) -> dict[str, int]:
        """{LangGraph task name: stage number} of `.pregel` (the keys its "updates" stream uses)."""
        return {f"stage{i + 1}": i + 1 for i in range(len(self.stages))}

    def _entrypoint(self, checkpointer: BaseCheckpointSaver | None):
        run_stages = self._run_stages

        async def router(inputs: dict, runtime) -> dict:  # kept tiny: LangGraph inspects its bytecode
            return await run_stages(inputs, runtime)

        router.__name__ = ENTRY_NAME
        return entrypoint(checkpointer=checkpointer)(router)

    def inputs_and_context(
        self, item: Item | str, *, budget: Budget | None = None, seed: int = 0, answer_kind: str | None = None
    ) -> tuple[dict, RouterContext, str]:
        """(input state, run context, token family) of one run, as `CompiledGraph.inputs_and_context`: the
        item (with its gold) in the context only, which LangGraph never serialises."""
        if not isinstance(item, Item | str):
            raise TypeError(f"run input must be an Item or a question string, got {type(item).__name__}")
        state = self._context(item, seed, answer_kind, budget)
        if isinstance(item, Item):
            inputs: dict = {"question": item.question, "seed": seed, "answer_kind": answer_kind}
        else:
            inputs = {"question": item, "seed": seed, "answer_kind": answer_kind or FREE_FORM_KIND}
        return inputs, state, state.family

    def _context(self, item: Item | str, seed: int, answer_kind: str | None, budget: Budget | None) -> RouterContext:
        family = item.family if isinstance(item, Item) else FREE_FORM_FAMILY
        return RouterContext(item, seed, answer_kind, family, BudgetMeter(budget))

    async def _run_stages(self, inputs: dict, runtime: Any) -> dict:
        """The entrypoint's body: stage after stage until one's stop rule holds (the escalation branch)."""
        state = runtime.context
        if isinstance(state, RouterContext):
            check_state_agrees(inputs, questions_of(state.item), state.seed, state.kind)  # never silently its own
        else:
            state = self._context(item_of(inputs), int(inputs.get("seed", 0)), inputs.get("answer_kind"), None)
        # Stage tasks get a token naming the run, never the state itself: a tracer records a task's
        # arguments, and the state holds the item with its gold answer.
        run = f"{RUN_TOKEN_PREFIX}{next(self._run_ids)}"
        self._live[run] = state
        out: dict[str, Any] = {}
        try:
            for stage_task in self._tasks:
                out = await stage_task(run)
                if out["stopped"]:
                    break
        finally:
            del self._live[run]
        return {"answer": out.get("answer"), "stage": out.get("stage")}

    def _stage_fn(self, index: int):
        live = self._live

        async def run_stage(run: str) -> dict:
            return await self._stage(index, live[run])

        run_stage.__name__ = f"stage{index + 1}"
        return run_stage

    async def _stage(self, index: int, state: RouterContext) -> dict:
        """Run stage `index` (0-based) given what earlier stages computed; returns its update (JSON-able)."""
        number = index + 1
        graph, reused = self.stages[index], self.reuse[index]
        given = {node: state.outputs[flat] for node, flat in reused.items()}
        t_start = perf_counter()
        stage_in = StageInput(state.meter, given, state.elapsed if self.modelled else t_start - state.t0)
        vote = self.votes[index]
        try:
            if vote is not None:
                res = await vote.run(state.item, seed=state.seed, answer_kind=state.answer_kind, stage_in=stage_in)
            else:
                res = await graph.run(state.item, seed=state.seed, answer_kind=state.answer_kind, stage=stage_in)
        except (BudgetExceededError, NodeFailedError) as exc:
            partial = exc.partial if isinstance(exc.partial, RunResult) else None
            if partial is not None:
                self._record(index, state, partial, stage_in, stopped=False, complete=False)
            raise
        last = index == len(self.stages) - 1
        signals = observe(res)
        rule = self.router.stages[index].stop
        stopped = last or (rule is not None and rule.passes(signals))
        run = self._record(index, state, res, stage_in, stopped=stopped, signals=signals)
        return {
            "stage": number,
            "graph": graph.spec.name,
            "answer": res.answer,
            "stopped": stopped,
            "signals": signals.model_dump(),
            "reused": run.reused,
        }

    def _record(
        self,
        index: int,
        state: RouterContext,
        res: RunResult,
        stage_in: StageInput,
        *,
        stopped: bool,
        signals: Signals | None = None,
        complete: bool = True,
    ) -> StageRun:
        """Keep what stage `index` computed for later stages, and what it spent: a complete stage's FLOPs units are
        `stage_flops` (what `validate` and the search estimate, bit for bit); one stopped part way counts only its
        nodes that ran (its run's own figure, without the nodes read from earlier stages), not the whole stage.
        Its latency is the stage run's own, as a graph's (a cache hit's as first measured, no wait for a slot), less
        the earlier stages' measured time that its clock starts with (so the time budget counts them)."""
        reused = self.reuse[index]
        for trace in res.nodes:
            if trace.id not in reused and trace.error is None:
                out: dict[str, Any] = {
                    "id": trace.id,
                    "role": trace.role,
                    "output": trace.output,
                    "answer": trace.answer,
                    "fields": {},
                }
                state.outputs[flat_id(index + 1, trace.id)] = (out, trace)
        latency = res.latency_s if self.modelled else max(0.0, res.latency_s - stage_in.elapsed)
        state.elapsed += latency if self.modelled else 0.0
        run = StageRun(
            stage=index + 1,
            graph_name=res.graph_name,
            answer=res.answer,
            signals=signals or Signals(),
            stopped=stopped,
            reused=list(reused),
            tokens=res.tokens,
            cost_usd=res.cost_usd,
            latency_s=latency,
            flops_units=self.stage_flops(state.family)[index] if complete else res.flops_units,
            error=res.error,
        )
        state.runs.append((run, res))
        return run

    async def run(
        self, item: Item | str, *, budget: Budget | None = None, seed: int = 0, answer_kind: str | None = None
    ) -> RouterRunResult:
        inputs, state, _ = self.inputs_and_context(item, budget=budget, seed=seed, answer_kind=answer_kind)
        try:
            async for _ in self.pregel.astream(inputs, context=state, stream_mode=()):
                pass
        except (BudgetExceededError, NodeFailedError) as exc:
            exc.partial = self.result(state)
            raise
        return self.result(state)

    def result(self, state: RouterContext) -> RouterRunResult:
        """The router's result from the stages run so far (all of them, unless the run stopped)."""
        runs = [r for r, _ in state.runs]
        nodes: list[NodeTrace] = []
        for run, res in state.runs:
            reused = self.reuse[run.stage - 1]
            nodes += [t.model_copy(update={"id": flat_id(run.stage, t.id)}) for t in res.nodes if t.id not in reused]
        answered = next((r for r in runs if r.stopped), None)
        last_res = state.runs[-1][1] if state.runs else None
        error = None if answered is not None else (last_res.error if last_res else "no stage ran")
        latency = sum(r.latency_s for r in runs)  # each stage's own figure, as fresh and cached runs agree
        final = answered or (runs[-1] if runs else None)
        final_res = next((res for run, res in state.runs if run is final), None)
        simulation = simulation_of(t.simulated for t in nodes) or self.configured_simulation
        return RouterRunResult(
            graph_name=self.router.name,
            graph_hash=self.graph_hash,
            answer=answered.answer if answered else None,
            output_node=flat_id(final.stage, final_res.output_node) if final and final_res else "",
            nodes=nodes,
            tokens_in=sum(t.tokens_in for t in nodes),
            tokens_out=sum(t.tokens_out for t in nodes),
            cost_usd=sum(t.cost_usd for t in nodes),
            latency_s=latency,
            critical_path_s=sum(res.critical_path_s for _, res in state.runs),
            flops_units=sum(r.flops_units for r in runs),
            simulated=simulation == SIMULATED,
            simulation=simulation,
            served=RouterRunResult.served_by(nodes),
            world=self.world,
            error=error,
            notes=[*stage_notes(state.runs), *failed_tool_notes(nodes)],  # tools under the flat ids of `nodes`
            stage=answered.stage if answered else 0,
            stages=runs,
            signals=answered.signals if answered else Signals(),
        )


def stage_notes(runs: list[tuple[StageRun, RunResult]]) -> list[str]:
    """The stages' own notes (why a loop stopped, what a fan-out spawned), each named with its stage, as a graph
    run's `notes` carry them. Their failed-tool lines are left out: the router's are made from its flat node ids."""
    lines: list[str] = []
    for run, res in runs:
        tools = set(failed_tool_notes(res.nodes))
        lines += [f"stage {run.stage}: {note}" for note in res.notes if note not in tools]
    return lines


def compile_spec(spec: Any, hub: ModelHub, *, toolbox: ToolBox | None = None, roles: RoleRegistry | None = None):
    """A `CompiledGraph` for a graph, a `CompiledRouter` for a router (both `.run` an item alike)."""
    if isinstance(spec, RouterSpec):
        return CompiledRouter(spec, hub, toolbox=toolbox, roles=roles)
    return CompiledGraph(spec, hub, toolbox=toolbox, roles=roles)


async def run_spec(spec: Any, item: Item | str, hub: ModelHub, **kwargs: Any) -> RunResult:
    """Run a graph or a router once (compiles per call, like `runtime.run_graph`)."""
    toolbox, roles = kwargs.pop("toolbox", None), kwargs.pop("roles", None)
    return await compile_spec(spec, hub, toolbox=toolbox, roles=roles).run(item, **kwargs)


def run_spec_sync(spec: Any, item: Item | str, hub: ModelHub, **kwargs: Any) -> RunResult:
    """`run_spec` in a fresh event loop, as `runtime.run_graph_sync` runs a graph: a running loop is refused in
    one line, and the hub's HTTP clients are closed before the loop ends (so the hub can be reused)."""
    refuse_running_loop("run_spec_sync", "run_spec(...)")
    return run_closing(lambda: run_spec(spec, item, hub, **kwargs), hub)
