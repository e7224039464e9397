"""Compile a `GraphSpec` onto LangGraph's functional API and run it.

Why the functional API: a `StateGraph` runs in lock-step supersteps, so a node waits for the
slowest node of the previous step even when its own inputs are ready (DESIGN.md, "Execution
semantics"). Here every node is a `@task` whose coroutine awaits exactly its predecessors'
futures: it waits for all its inputs and nothing else, and nodes with no path between them run
concurrently, so wall time tracks the critical path. The compiled object is a real LangGraph
`Pregel` (an `@entrypoint`), so checkpointers and `stream_mode="updates"` work on it.
`CompiledGraph.run` drives a twin entrypoint that runs the output node in its own body (one
LangGraph task fewer per run); `.pregel`, the object apps use, keeps a task per node.

Input of the compiled graph: {"question": str, "seed": int, "answer_kind": str}. Per-run state (budget
meter, traces) and the item's answer key travel as LangGraph's run context (`CompiledGraph.context`),
which LangGraph never serialises: the gold is never in the graph's state, so never in a checkpoint or
a LangSmith trace, and only simulated models are handed it (`rolegraph.models.hub`). A graph in which a real
node reads a simulated node's output (derived from the gold) is refused a run with a key (`gold_guard`).
Output: {"answer", "output_node", "nodes": {id: {id, role, output, answer, end_s, fields}}}.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.func import entrypoint, task
from langgraph.pregel import Pregel

from rolegraph.agents.registry import RoleRegistry
from rolegraph.errors import BudgetExceededError, GraphError, NodeFailedError, did_you_mean
from rolegraph.graphs.budget import Budget
from rolegraph.graphs.coalesce import Coalescer, coalesce_groups
from rolegraph.graphs.gold_guard import gold_leak_problem
from rolegraph.graphs.inputs import (
    FREE_FORM_FAMILY,
    FREE_FORM_KIND,
    check_state_agrees,
    context_without_key,
    question_text,
    run_inputs,
)
from rolegraph.graphs.node_task import PASS_THROUGH, node_task
from rolegraph.graphs.nodes import NodePlan, RunContext, StageInput
from rolegraph.graphs.result import RunResult
from rolegraph.graphs.run_assembly import assemble_result, flops_units_of, graph_hash_of
from rolegraph.graphs.schedule import Topology
from rolegraph.graphs.spec import GraphSpec
from rolegraph.graphs.sync import refuse_running_loop, run_closing
from rolegraph.graphs.units import DynamicPlan
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.provenance import REAL, simulation_of
from rolegraph.tools.toolbox import ToolBox  # already loaded by then: in the hints that resolve at run time

ENTRY_NAME = "rolegraph"
NO_STREAM_MODES: tuple[str, ...] = ()
_SAFE_TASK_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
RUN_TOKEN_PREFIX = "run-"
CODE_TOOL = "python"  # the tool that runs model-written code in the sandbox


def unknown_tool(spec: GraphSpec, node_id: str, name: str, toolbox: ToolBox) -> str:
    """The problem line for a tool the toolbox lacks (an MCP server's tool: the server is not connected)."""
    server = name.split(".", 1)[0]
    served = [tool for tool in toolbox if tool.startswith(f"{server}.")]
    if "." in name and served:  # the server is connected: the tool name is wrong
        return f"node '{node_id}': MCP server '{server}' has no tool '{name}'." + did_you_mean(name, served)
    if "." in name and server in {s.name for s in spec.mcp_servers}:
        return (
            f"node '{node_id}': tool '{name}' comes from MCP server '{server}', which is not connected "
            "(run inside rolegraph.tools.mcp.mcp_toolbox(spec.mcp_servers, settings, ...))"
        )
    return f"node '{node_id}': unknown tool '{name}'." + did_you_mean(name, list(toolbox))


def require_graph(spec: object) -> None:
    """Refuse anything but a `GraphSpec` in one line naming what to pass instead, before an AttributeError from
    deep inside compiling it. A router is not run here: `router_runtime` builds on this module, so it cannot be
    dispatched to from it; its `run_spec` runs a graph or a router alike."""
    if isinstance(spec, GraphSpec):
        return
    if getattr(spec, "kind", None) == "router":
        raise GraphError(
            [
                "this is a router (RouterSpec), and run_graph runs one graph: run it with "
                "rolegraph.graphs.router_runtime.run_spec (or run_spec_sync), which run a graph or a router"
            ]
        )
    raise GraphError(
        [
            f"expected a GraphSpec, got {type(spec).__name__}: build one with rolegraph.graphs.builder.Graph(...)"
            ".build(), load a file with rolegraph.graphs.io.load_graph, or validate a dict with "
            "GraphSpec.model_validate"
        ]
    )


class CompiledGraph:
    """A spec bound to a hub, a toolbox and roles: node plans plus the LangGraph `Pregel`.

    Compile once per spec and run it on many items (`GraphRunner` keeps one per spec).
    """

    def __init__(
        self,
        spec: GraphSpec,
        hub: ModelHub,
        *,
        toolbox: ToolBox | None = None,
        roles: RoleRegistry | None = None,
        checkpointer: BaseCheckpointSaver | None = None,
    ):
        from rolegraph.graphs.validate import check_graph

        require_graph(spec)
        self.spec, self.hub = spec, hub
        self.roles = roles if roles is not None else RoleRegistry.default()
        check_graph(spec, hub.pool, roles=self.roles.names())
        self.topo = Topology.of(spec)
        self.output = spec.output_id()
        needs_tools = any(self.roles.get(n.role).tools or n.params.get("tools") for n in spec.nodes)
        if needs_tools and toolbox is None:
            from rolegraph.tools.toolbox import default_toolbox

            toolbox = default_toolbox(hub.settings)
        self.toolbox = toolbox
        self.plans: dict[str, NodePlan] = {}
        for node in spec.nodes:
            plan = NodePlan.build(
                node,
                self.roles.get(node.role),
                hub.spec(node.model),
                hub.get(node.model),
                self.topo.preds[node.id],
                toolbox,
            )
            plan.instant = plan.spec.backend == "sim" and hub.settings.latency_scale == 0
            if plan.tools:
                assert toolbox is not None  # a node with tools made `needs_tools` true: the default was built
                unknown = [name for name in plan.tools if name not in toolbox]
                if unknown:
                    raise GraphError([unknown_tool(spec, node.id, unknown[0], toolbox)])
            self.plans[node.id] = plan
        # fan-out copies and loop rounds are not known in advance: dynamic graphs make every call on its own
        self.coalesce = coalesce_groups(spec, self.plans) if hub.settings.coalesce and not spec.dynamic else {}
        self.simulated = all(p.spec.simulated for p in self.plans.values())
        self.world = hub.pool.world if any(p.spec.simulated for p in self.plans.values()) else None
        self.key_readers = tuple(p.spec for p in self.plans.values())  # who may be handed the key: `gold_for`
        # a real node reading a sim node's output would carry the gold out: refused for runs with a key
        self.gold_leak = gold_leak_problem(spec, lambda m: hub.spec(m).simulated, f"graph '{spec.name}': ")
        self.runs_model_code = any(CODE_TOOL in p.tools for p in self.plans.values())  # the python tool
        # the label before any reply says otherwise (a run whose nodes all failed before answering)
        self.configured_simulation = simulation_of(p.spec.simulated for p in self.plans.values()) or REAL
        # what the as-if-alone wall time needs (`schedule.alone_wall_s`): each node's model, each model's slots
        self.model_of = {n: p.spec.id for n, p in self.plans.items()}
        self.model_slots = {p.spec.id: p.spec.max_concurrency for p in self.plans.values()}
        self.modelled = self.simulated and hub.settings.latency_scale == 0
        self.graph_hash = graph_hash_of(spec)
        self._flops: dict[str, float] = {}
        self._live: dict[str, RunContext] = {}  # contexts of the runs in flight, by the token their tasks get
        self._run_ids = itertools.count()
        self.pregel = self._build(checkpointer)

    def _build(self, checkpointer: BaseCheckpointSaver | None) -> Pregel:
        self._fns = {node_id: self._node_fn(self.plans[node_id]) for node_id in self.topo.order}
        self._tasks: dict[str, Any] = {}
        for i, node_id in enumerate(self.topo.order):
            name = node_id if _SAFE_TASK_NAME.match(node_id) else f"node{i}"
            self._tasks[node_id] = task(self._fns[node_id], name=name)
        self._fast: Any = None
        self.dynamic = (
            DynamicPlan(self.spec, self.plans, self.topo.preds, self._tasks, self.roles, self._live)
            if self.spec.dynamic
            else None
        )
        return self._entrypoint(checkpointer, inline_output=False)

    def _entrypoint(self, checkpointer: BaseCheckpointSaver | None, *, inline_output: bool) -> Pregel:
        run_all = self._run_all

        async def graph(inputs: dict, runtime) -> dict:  # kept tiny: LangGraph inspects its bytecode
            return await run_all(inputs, runtime, inline_output)

        graph.__name__ = ENTRY_NAME if ENTRY_NAME not in self.plans else f"{ENTRY_NAME}_entry"
        return entrypoint(checkpointer=checkpointer)(graph)

    async def _run_all(self, inputs: dict, runtime: Any, inline_output: bool = False) -> dict:
        """The entrypoint's body: launch every node task in topological order, each given its inputs' futures.

        With `inline_output` the output node runs in this body instead of as a task of its own: it is the
        last node and the body awaits it anyway, and a LangGraph task costs about 0.7 ms of CPU per run
        (BENCHMARKS.md, Overhead). `run` uses that form; `.pregel` keeps one task per node
        so that apps streaming "updates" or checkpointing see every node.
        """
        if isinstance(runtime.context, RunContext):
            ctx = runtime.context
            check_state_agrees(inputs, (ctx.question,), ctx.seed, ctx.kind)  # never silently the context's
        else:
            ctx = self._context(inputs)
        # Tasks get a token naming the run, never the context itself: LangSmith (and any tracer) records a
        # task's arguments, and the context holds the answer key.
        run = f"{RUN_TOKEN_PREFIX}{next(self._run_ids)}"
        self._live[run] = ctx
        try:
            if self.dynamic is not None:  # fan-out or loops: units launched by graphs/units.py
                return await self.dynamic.run_all(inputs, run)
            futures: dict[str, Any] = {}
            preds, tasks = self.topo.preds, self._tasks
            given = ctx.given
            for node_id in self.topo.order:
                if node_id in given:  # a router stage reads this node's output from an earlier stage
                    futures[node_id] = _resolved(given[node_id])
                    continue
                if inline_output and node_id == self.output:
                    continue
                futures[node_id] = tasks[node_id](inputs, run, *[futures[p] for p in preds[node_id]])
            if inline_output and self.output not in given:
                last = await self._fns[self.output](inputs, run, *[futures[p] for p in preds[self.output]])
                results = dict(zip(futures, await asyncio.gather(*futures.values()))) if futures else {}
                results[self.output] = last
            else:
                results = dict(zip(futures, await asyncio.gather(*futures.values())))
        finally:
            del self._live[run]
        return {"answer": results[self.output]["answer"], "output_node": self.output, "nodes": results}

    def _context(self, inputs: dict) -> RunContext:
        """The context of a run invoked without one (an app calling `.pregel` directly): no answer key."""
        ctx = context_without_key(inputs, self.modelled)
        ctx.coalescer = Coalescer(self.coalesce) if self.coalesce else None
        return ctx

    def inputs_and_context(
        self, item: Item | str, *, budget: Budget | None = None, seed: int = 0, answer_kind: str | None = None
    ) -> tuple[dict, RunContext, str]:
        """(input state, run context, token family) of one run: the answer key in the context only, and
        only when some node's model is simulated (only those read it); an item with a gold answer is refused
        when a real node reads a simulated one (`gold_leak`, `rolegraph.graphs.gold_guard`)."""
        inputs, ctx, family = run_inputs(
            item,
            readers=self.key_readers,
            modelled=self.modelled,
            budget=budget,
            seed=seed,
            answer_kind=answer_kind,
            gold_leak=self.gold_leak,
        )
        ctx.coalescer = Coalescer(self.coalesce) if self.coalesce else None
        return inputs, ctx, family

    def _node_fn(self, plan: NodePlan):
        return node_task(plan, self.roles, self.toolbox, self._live)

    def task_names(self) -> dict[str, str]:
        """{LangGraph task name: node id} of `.pregel` (the keys its "updates" stream uses)."""
        return {fn.__name__: node_id for node_id, fn in self._tasks.items()}

    def flops_units(self, family: str) -> float:
        """The paper's budget units at the family's token profile; 0 when a model has no sizes."""
        if family not in self._flops:
            self._flops[family] = flops_units_of(self.spec, self.hub, family)
        return self._flops[family]

    async def run(
        self,
        item: Item | str,
        *,
        budget: Budget | None = None,
        seed: int = 0,
        answer_kind: str | None = None,
        listener: Callable[[dict[str, Any]], None] | None = None,
        on_text: Callable[[str], None] | None = None,
        stage: StageInput | None = None,
        coalescer: Coalescer | None = None,
    ) -> RunResult:
        """Run once. `listener` gets node start/end events; `on_text` gets the output node's reply as it
        streams (nothing when its model cannot stream, it uses tools or it runs in a loop: `serve` then sends the
        whole answer when the run ends). `stage`: this
        run is one stage of a router (its shared budget meter, the nodes it reads from earlier stages, the
        time already spent; router_runtime.py). `coalescer`: one shared with other graphs' runs, used instead of
        this run's own (the voters of a router's plurality stage, each a graph of its own, share the stage's:
        router_vote.py)."""
        inputs, ctx, family = self.inputs_and_context(item, budget=budget, seed=seed, answer_kind=answer_kind)
        if coalescer is not None:
            ctx.coalescer = coalescer
        if stage is not None:
            stage.enter(ctx)
        if listener is not None or on_text is not None:
            ctx.listener, ctx.on_text = listener, on_text
            ctx.stream_node = (
                self.output if self.dynamic is None or self.output not in self.dynamic.dyn.group_of else None
            )
        try:
            # The result is read from ctx.traces, never from LangGraph's output: stream no mode at all, so
            # LangGraph skips building the per-task "updates" and the final "values" that ainvoke collects.
            if self._fast is None:
                self._fast = self._entrypoint(None, inline_output=True)
            async for _ in self._fast.astream(inputs, context=ctx, stream_mode=NO_STREAM_MODES):
                pass
        except (BudgetExceededError, NodeFailedError) as exc:
            exc.partial = self.result(ctx, family, error=str(exc))
            raise
        return self.result(ctx, family)

    def result(self, ctx: RunContext, family: str, error: str | None = None) -> RunResult:
        """The RunResult of the nodes traced so far (all of them, unless the run stopped)."""
        return assemble_result(self, ctx, family, error)


def _resolved(value: dict) -> asyncio.Future:
    fut = asyncio.get_running_loop().create_future()
    fut.set_result(value)
    return fut


class GraphRunner:
    """Runs graphs on one hub, compiling each distinct spec once (the cache lives in this object)."""

    def __init__(self, hub: ModelHub, *, toolbox: ToolBox | None = None, roles: RoleRegistry | None = None):
        self.hub, self.toolbox = hub, toolbox
        self.roles = roles if roles is not None else RoleRegistry.default()
        self._compiled: dict[str, CompiledGraph] = {}

    def compiled(self, spec: GraphSpec) -> CompiledGraph:
        key = spec.model_dump_json()
        graph = self._compiled.get(key)
        if graph is None:
            graph = self._compiled[key] = CompiledGraph(spec, self.hub, toolbox=self.toolbox, roles=self.roles)
            if self.toolbox is None:
                self.toolbox = graph.toolbox  # share one default toolbox across specs
        return graph

    async def run(
        self,
        spec: GraphSpec,
        item: Item | str,
        *,
        budget: Budget | None = None,
        seed: int = 0,
        answer_kind: str | None = None,
    ) -> RunResult:
        return await self.compiled(spec).run(item, budget=budget, seed=seed, answer_kind=answer_kind)


def compile_graph(
    spec: GraphSpec,
    hub: ModelHub,
    *,
    toolbox: ToolBox | None = None,
    roles: RoleRegistry | None = None,
    checkpointer: BaseCheckpointSaver | None = None,
) -> Pregel:
    """The LangGraph `Pregel` of `spec` (an entrypoint; see the module docstring for its I/O)."""
    return CompiledGraph(spec, hub, toolbox=toolbox, roles=roles, checkpointer=checkpointer).pregel


async def run_graph(
    spec: GraphSpec,
    item: Item | str,
    hub: ModelHub,
    *,
    toolbox: ToolBox | None = None,
    roles: RoleRegistry | None = None,
    budget: Budget | None = None,
    seed: int = 0,
    answer_kind: str | None = None,
) -> RunResult:
    """Run `spec` once on an item (or a free-form question). Compiles per call: to run one spec on many
    items, use `GraphRunner`. Raises BudgetExceededError / NodeFailedError with `.partial` set."""
    graph = CompiledGraph(spec, hub, toolbox=toolbox, roles=roles)
    return await graph.run(item, budget=budget, seed=seed, answer_kind=answer_kind)


def run_graph_sync(spec: GraphSpec, item: Item | str, hub: ModelHub, **kwargs: Any) -> RunResult:
    """`run_graph` in a fresh event loop (for scripts and the CLI; inside a running loop, await `run_graph`).

    A running loop is refused before any coroutine is made (asyncio.run's own refusal is a bare RuntimeError
    plus a 'never awaited' warning). The hub's HTTP clients, bound to this call's loop, are closed before it
    ends (unclosed, they warn and later fail at garbage collection); the hub re-makes them on its next call.
    """
    refuse_running_loop("run_graph_sync", "run_graph(...)")
    return run_closing(lambda: run_graph(spec, item, hub, **kwargs), hub)


__all__ = [
    "FREE_FORM_FAMILY",
    "FREE_FORM_KIND",
    "Budget",
    "CompiledGraph",
    "GraphRunner",
    "PASS_THROUGH",
    "compile_graph",
    "question_text",
    "run_graph",
    "run_graph_sync",
]
