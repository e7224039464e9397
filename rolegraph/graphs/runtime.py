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
a LangSmith trace, and only simulated models are handed it (`rolegraph.models.hub`).
Output: {"answer", "output_node", "nodes": {id: {id, role, output, answer, end_s, fields}}}.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import re
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.func import entrypoint, task

from rolegraph.agents.agent import run_agent
from rolegraph.agents.registry import RoleError, RoleRegistry
from rolegraph.errors import (
    BudgetExceededError,
    EngineMissingError,
    GraphError,
    MissingKeyError,
    NoAnswerKeyError,
    NodeFailedError,
    PoolFileError,
    SandboxRefusedError,
    UnknownModelError,
    did_you_mean,
)
from rolegraph.graphs.budget import Budget
from rolegraph.graphs.coalesce import Coalescer, coalesce_groups
from rolegraph.graphs.inputs import FREE_FORM_FAMILY, FREE_FORM_KIND, context_without_key, question_text, run_inputs
from rolegraph.graphs.instances import instance_inputs, node_event
from rolegraph.graphs.nodes import Instance, NodeCall, NodePlan, RunContext, StageInput
from rolegraph.graphs.result import RunResult
from rolegraph.graphs.schedule import Topology, alone_wall_s, critical_path_s
from rolegraph.graphs.spec import GraphSpec
from rolegraph.graphs.units import DynamicPlan, as_run_critical_path, as_run_spec, ordered_traces, output_trace
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.provenance import REAL, SIMULATED, simulation_of
from rolegraph.transcript import Section

ENTRY_NAME = "rolegraph"
NO_STREAM_MODES: tuple[str, ...] = ()
_SAFE_TASK_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
PASS_THROUGH = (
    BudgetExceededError,
    NodeFailedError,
    MissingKeyError,
    UnknownModelError,
    PoolFileError,
    EngineMissingError,
    GraphError,
    NoAnswerKeyError,
    RoleError,
    SandboxRefusedError,
)
"""Errors that already say what is wrong (budget, setup): raised as they are, not as a node failure."""
RUN_TOKEN_PREFIX = "run-"
CODE_TOOL = "python"  # the tool that runs model-written code in the sandbox


def unknown_tool(spec: GraphSpec, node_id: str, name: str, toolbox: Any) -> str:
    """The problem line for a tool the toolbox lacks (an MCP server's tool: the server is not connected)."""
    server = name.split(".", 1)[0]
    if "." in name and server in {s.name for s in spec.mcp_servers}:
        return (
            f"node '{node_id}': tool '{name}' comes from MCP server '{server}', which is not connected "
            "(run inside rolegraph.tools.mcp.mcp_toolbox(spec.mcp_servers, settings, ...))"
        )
    return f"node '{node_id}': unknown tool '{name}'." + did_you_mean(name, list(toolbox))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class CompiledGraph:
    """A spec bound to a hub, a toolbox and roles: node plans plus the LangGraph `Pregel`.

    Compile once per spec and run it on many items (`GraphRunner` keeps one per spec).
    """

    def __init__(
        self,
        spec: GraphSpec,
        hub: ModelHub,
        *,
        toolbox: Any = None,
        roles: RoleRegistry | None = None,
        checkpointer: BaseCheckpointSaver | None = None,
    ):
        from rolegraph.graphs.validate import check_graph

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
            unknown = [name for name in plan.tools if name not in toolbox]
            if unknown:
                raise GraphError([unknown_tool(spec, node.id, unknown[0], toolbox)])
            self.plans[node.id] = plan
        # fan-out copies and loop rounds are not known in advance: dynamic graphs make every call on its own
        self.coalesce = coalesce_groups(spec, self.plans) if hub.settings.coalesce and not spec.dynamic else {}
        self.simulated = all(p.spec.simulated for p in self.plans.values())
        self.world = hub.pool.world if any(p.spec.simulated for p in self.plans.values()) else None
        self.reads_key = any(p.spec.simulated for p in self.plans.values())  # some node's model needs the key
        self.runs_model_code = any(CODE_TOOL in p.tools for p in self.plans.values())  # the python tool
        # the label before any reply says otherwise (a run whose nodes all failed before answering)
        self.configured_simulation = simulation_of(p.spec.simulated for p in self.plans.values()) or REAL
        self._model_of = {n: p.spec.id for n, p in self.plans.items()}
        self._slots = {p.spec.id: p.spec.max_concurrency for p in self.plans.values()}
        self.modelled = self.simulated and hub.settings.latency_scale == 0
        self.graph_hash = _graph_hash(spec)
        self._flops: dict[str, float] = {}
        self._live: dict[str, RunContext] = {}  # contexts of the runs in flight, by the token their tasks get
        self._run_ids = itertools.count()
        self.pregel = self._build(checkpointer)

    def _build(self, checkpointer: BaseCheckpointSaver | None):
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

    def _entrypoint(self, checkpointer: BaseCheckpointSaver | None, *, inline_output: bool):
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
        ctx = runtime.context if isinstance(runtime.context, RunContext) else self._context(inputs)
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
        only when some node's model is simulated (only those read it)."""
        inputs, ctx, family = run_inputs(
            item, reads_key=self.reads_key, modelled=self.modelled, budget=budget, seed=seed, answer_kind=answer_kind
        )
        ctx.coalescer = Coalescer(self.coalesce) if self.coalesce else None
        return inputs, ctx, family

    def _node_fn(self, plan: NodePlan):
        roles, toolbox = self.roles, self.toolbox

        live = self._live

        async def run_node(inputs: dict, run: str, *pred_futures, instance: Instance | None = None) -> dict:
            ctx = live.get(run)
            if ctx is None:  # the run already ended (another node failed): this task has nothing to report to
                raise asyncio.CancelledError
            preds: Sequence[Any]
            if len(pred_futures) > 1:
                preds = await asyncio.gather(*pred_futures)
            else:  # no gather (and its extra future) for the commonest cases: a source, a chain link
                preds = (await pred_futures[0],) if pred_futures else ()
            if instance is not None or any(type(p) is list for p in preds):
                preds = instance_inputs(preds, instance, ctx)
            node_id = instance.id if instance is not None else plan.id
            question = instance.question if instance is not None and instance.question else ctx.question
            if ctx.listener is not None:
                ctx.listener(node_event("node_start", node_id, plan))
            start_model = max((p["end_s"] for p in preds), default=ctx.clock0)
            sections = [Section(i, p["id"], p["role"], p["output"]) for i, p in enumerate(preds, start=1)]
            read = [p["id"] for p in preds]
            call = NodeCall(plan, ctx, start_model, instance)
            t_start = perf_counter()
            try:
                res = await run_agent(
                    plan.role,
                    plan.system_prompt(ctx.kind, roles),
                    question,
                    sections,
                    call,
                    kind=ctx.kind,
                    toolbox=toolbox,
                    tools=plan.tools,
                    native=plan.native,
                )
            except BaseException as exc:
                failed = isinstance(exc, Exception)
                if failed or call.calls:
                    elapsed = perf_counter() - t_start
                    ctx.traces[node_id] = call.trace(
                        latency=call.model_latency if ctx.modelled else elapsed,
                        start=start_model,
                        end=start_model + (call.model_latency if ctx.modelled else elapsed),
                        error=_describe(exc) if failed else "cancelled",
                        inputs=read,
                    )
                if not failed or isinstance(exc, PASS_THROUGH):
                    raise
                raise NodeFailedError(
                    f"node '{node_id}' ({plan.role.name} on {plan.spec.id}) failed: {_describe(exc)}", plan.id
                ) from exc
            t_end = perf_counter()
            if ctx.modelled:
                latency, start, end = call.model_latency, start_model, start_model + call.model_latency
            else:  # measured; a real model's calls at their own latency (`NodeCall.adjust_s`)
                latency, start, end = t_end - t_start + call.adjust_s, t_start - ctx.t0, t_end - ctx.t0
            out = res.output
            ctx.traces[node_id] = trace = call.trace(
                latency=latency,
                start=start,
                end=end,
                answer=out.answer,
                output=out.text,
                uses=res.tool_uses,
                inputs=read,
                verdicts=out.fields.get("verdicts"),
            )
            if ctx.listener is not None:
                ctx.listener(node_event("node_end", node_id, plan, trace))
            return {
                "id": node_id,
                "role": plan.role.name,
                "output": out.text,
                "answer": out.answer,
                "end_s": end,
                "fields": out.fields,
            }

        run_node.__name__ = f"node_{plan.id}"
        # LangGraph wraps a task's function anew on every call (closures are not in its runnable cache)
        # and each wrapping asks inspect.signature three times; a stored signature answers at once.
        run_node.__signature__ = inspect.signature(run_node)  # type: ignore[attr-defined]  # a function attribute
        return run_node

    def task_names(self) -> dict[str, str]:
        """{LangGraph task name: node id} of `.pregel` (the keys its "updates" stream uses)."""
        return {fn.__name__: node_id for node_id, fn in self._tasks.items()}

    def flops_units(self, family: str) -> float:
        """The paper's budget units at the family's token profile; 0 when a model has no sizes."""
        if family not in self._flops:
            self._flops[family] = _flops_units(self.spec, self.hub, family)
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
    ) -> RunResult:
        """Run once. `listener` gets node start/end events; `on_text` gets the output node's reply as it
        streams (the whole reply at once when its model cannot stream or it runs in a loop). `stage`: this
        run is one stage of a router (its shared budget meter, the nodes it reads from earlier stages, the
        time already spent; router_runtime.py)."""
        inputs, ctx, family = self.inputs_and_context(item, budget=budget, seed=seed, answer_kind=answer_kind)
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
        if self.dynamic is not None:
            traces = ordered_traces(self.spec, self.dynamic.dyn, ctx.traces)
            critical = as_run_critical_path(traces)
            out = output_trace(traces, self.output)
            flops = _flops_units(as_run_spec(self.spec, traces, out), self.hub, family) if traces else 0.0
        else:
            traces = [ctx.traces[n] for n in self.spec.node_ids if n in ctx.traces]
            critical = critical_path_s(self.topo, {t.id: t.latency_s for t in traces})
            out = ctx.traces.get(self.output)
            flops = self.flops_units(family)
        if ctx.modelled:
            wall = critical
        elif self.dynamic is None:  # as if the run had been alone and fresh (`schedule.alone_wall_s`)
            wall = alone_wall_s(self.topo, traces, perf_counter() - ctx.t0, self._model_of, self._slots)
        else:
            wall = perf_counter() - ctx.t0
        simulation = simulation_of(t.simulated for t in traces) or self.configured_simulation
        return RunResult(
            graph_name=self.spec.name,
            graph_hash=self.graph_hash,
            answer=out.answer if out else None,
            output_node=self.output,
            nodes=traces,
            tokens_in=sum(t.tokens_in for t in traces),
            tokens_out=sum(t.tokens_out for t in traces),
            cost_usd=sum(t.cost_usd for t in traces),
            latency_s=wall,
            critical_path_s=critical,
            flops_units=flops,
            simulated=simulation == SIMULATED,
            simulation=simulation,
            served=RunResult.served_by(traces),
            world=self.world,
            error=error,
            notes=list(ctx.notes),
        )


def _resolved(value: dict) -> asyncio.Future:
    fut = asyncio.get_running_loop().create_future()
    fut.set_result(value)
    return fut


def _graph_hash(spec: GraphSpec) -> str:
    try:
        from rolegraph.graphs.io import graph_hash
    except ImportError:  # the io module is optional for the runtime
        return ""
    return graph_hash(spec)


def _flops_units(spec: GraphSpec, hub: ModelHub, family: str) -> float:
    try:
        from rolegraph.graphs.analysis import TOKEN_PROFILES, FlopsUnknownError, flops_units
    except ImportError:
        return 0.0
    profile = TOKEN_PROFILES.get(family)
    if profile is None:
        return 0.0
    try:
        return flops_units(spec, hub.pool, profile)
    except FlopsUnknownError:
        return 0.0


class GraphRunner:
    """Runs graphs on one hub, compiling each distinct spec once (the cache lives in this object)."""

    def __init__(self, hub: ModelHub, *, toolbox: Any = None, roles: RoleRegistry | None = None):
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
    toolbox: Any = None,
    roles: RoleRegistry | None = None,
    checkpointer: BaseCheckpointSaver | None = None,
):
    """The LangGraph `Pregel` of `spec` (an entrypoint; see the module docstring for its I/O)."""
    return CompiledGraph(spec, hub, toolbox=toolbox, roles=roles, checkpointer=checkpointer).pregel


async def run_graph(
    spec: GraphSpec,
    item: Item | str,
    hub: ModelHub,
    *,
    toolbox: Any = None,
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
    """`run_graph` in a fresh event loop (for scripts and the CLI; not from inside a running loop)."""
    return asyncio.run(run_graph(spec, item, hub, **kwargs))


__all__ = [
    "FREE_FORM_FAMILY",
    "FREE_FORM_KIND",
    "Budget",
    "CompiledGraph",
    "GraphRunner",
    "compile_graph",
    "question_text",
    "run_graph",
    "run_graph_sync",
]
