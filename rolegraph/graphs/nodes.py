"""One node of a compiled graph: its plan (built once) and its execution (once per run).

A node's model calls go through `NodeCall`, which checks the budget before each call, passes the
item's answer key, the run seed and the node's stable `sample`, and accounts tokens, dollars and
latency into the node's trace, with how many replies were cut at the node's max_tokens.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from time import perf_counter
from typing import Any

from rolegraph.agents.registry import TOOLS_SLOT, Role
from rolegraph.agents.tooluse import ToolUse, tool_help
from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import ChatModel, Completion, Message
from rolegraph.errors import BudgetExceededError
from rolegraph.graphs.budget import BudgetMeter, Reservation
from rolegraph.graphs.result import NodeTrace, ToolEvent
from rolegraph.graphs.spec import NodeSpec
from rolegraph.items import AnswerKey
from rolegraph.models.provenance import ServedBy
from rolegraph.models.streaming import stream_complete
from rolegraph.money import money
from rolegraph.tools.toolbox import ToolBox  # already loaded by then (agents): in the hints that resolve at run time

NATIVE_TOOL_BACKENDS = frozenset({"openai"})
"""Backends that get OpenAI function schemas; others use the plain-text tool protocol."""
TOOL_PROTOCOL_PARAM = "tool_protocol"  # node param: "native" | "text" overrides the backend default


def node_sample(node_id: str) -> int:
    """A stable per-node draw index: parallel identical nodes draw differently, and cache apart."""
    return zlib.crc32(node_id.encode("utf-8"))


@dataclass
class RunContext:
    """Per-run state shared by the nodes (LangGraph passes it as the run's context, unserialized)."""

    question: str
    answer_key: AnswerKey | None
    seed: int
    kind: str
    meter: BudgetMeter
    modelled: bool  # all-sim without sleeping: times are the models' modelled latencies
    t0: float = field(default_factory=perf_counter)
    traces: dict[str, NodeTrace] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what fan-outs spawned and why loops stopped
    listener: Callable[[dict[str, Any]], None] | None = None  # node start/end events (rolegraph serve)
    on_text: Callable[[str], None] | None = None  # text deltas of the streamed node's reply
    stream_node: str | None = None  # the node whose model reply streams to `on_text`

    coalescer: Any = None  # rolegraph.graphs.coalesce.Coalescer when nodes of this graph can share requests
    given: dict[str, dict] = field(default_factory=dict)  # router stage: node outputs read from earlier stages
    clock0: float = 0.0  # modelled time at which this run starts (a router stage starts where the last ended)


@dataclass(frozen=True, slots=True)
class Instance:
    """One run of a graph node that is not the node's only run: a fan-out copy or a loop round.

    `sections` are extra inputs the instance reads after its predecessors (a copy's assignment, a
    round's feedback); `question` replaces the run's question (a copy answers its sub-question);
    `held` is the budget the spawner reserved for the copy, released when the copy starts.
    """

    id: str
    of: str
    question: str | None = None
    sections: tuple[dict[str, Any], ...] = ()
    copy: int | None = None
    round: int | None = None
    held: Reservation | None = None


@dataclass
class StageInput:
    """What a router passes to one stage's run: the router's budget meter, the outputs (and traces) of nodes
    the stage reads from earlier stages instead of running them, and the time the earlier stages took."""

    meter: BudgetMeter
    given: dict[str, tuple[dict, NodeTrace]]
    elapsed: float = 0.0

    def enter(self, ctx: RunContext) -> None:
        ctx.meter = self.meter
        if ctx.modelled:
            ctx.clock0 = self.elapsed
        else:
            ctx.t0 -= self.elapsed  # the time budget counts the earlier stages too
        for node_id, (out, trace) in self.given.items():
            ctx.given[node_id] = {**out, "end_s": ctx.clock0}
            ctx.traces[node_id] = trace.model_copy(update=_REUSED_TRACE | {"start_s": ctx.clock0, "end_s": ctx.clock0})


_REUSED_TRACE = {"tokens_in": 0, "tokens_out": 0, "latency_s": 0.0, "cost_usd": 0.0, "calls": 0, "cached_calls": 0}
"""A reused node costs its stage nothing: its call was made (and counted) by the earlier stage."""


@dataclass
class NodePlan:
    """Everything about a node that does not change between runs."""

    id: str
    role: Role
    spec: ModelSpec
    model: ChatModel
    preds: tuple[str, ...]
    temperature: float
    max_tokens: int
    tools: tuple[str, ...]
    native: bool
    sample: int
    toolbox: ToolBox | None = None
    instant: bool = False
    """A sim model that does not sleep (latency_scale 0): in a measured run (a partly simulated graph) its
    calls take no wall time, so its time is its modelled latency, as in an all-sim run."""
    _prompts: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        node: NodeSpec,
        role: Role,
        spec: ModelSpec,
        model: ChatModel,
        preds: tuple[str, ...],
        toolbox: ToolBox | None,
    ) -> NodePlan:
        params = node.params
        tools = tuple(dict.fromkeys([*role.tools, *params.get("tools", ())]))
        if role.mode in ("search", "read") and params.get("tools"):  # the node's own search tools replace `search`
            tools = tuple(dict.fromkeys(params["tools"]))
        protocol = params.get(TOOL_PROTOCOL_PARAM)
        native = protocol == "native" if protocol in ("native", "text") else spec.backend in NATIVE_TOOL_BACKENDS
        return cls(
            node.id,
            role,
            spec,
            model,
            preds,
            float(params.get("temperature", role.temperature)),
            int(params.get("max_tokens", role.max_tokens)),
            tools,
            native,
            node_sample(node.id),
            toolbox,
        )

    def system_prompt(self, kind: str, formats: Any) -> str:
        """The rendered system prompt for an answer kind (rendered once per kind, then reused). Without a toolbox
        there is no tool help to give: the agent then stops the node with its one-line RoleError.

        A role whose template has no `{tools}` slot (one registered in Python or in a roles file) still gets the
        help of its node's tools, at the end: without it the text protocol's model never learnt that the tools
        exist or how to call them, and the node ran as if it had none."""
        prompt = self._prompts.get(kind)
        if prompt is None:
            box = self.toolbox if self.tools and self.role.mode == "chat" else None
            help_text = tool_help(box, self.tools, self.native) if box is not None else ""
            role = self.role
            if help_text and TOOLS_SLOT not in role.template:
                role = replace(role, template=f"{role.template.rstrip()}\n\n{TOOLS_SLOT}")
            prompt = self._prompts[kind] = role.render(formats.answer_format(kind), help_text)
        return prompt


class NodeCall:
    """The `Caller` one node's agent uses; accumulates the node's accounting."""

    __slots__ = (
        "plan",
        "ctx",
        "instance",
        "start",
        "model_latency",
        "tokens_in",
        "tokens_out",
        "cost",
        "calls",
        "cached",
        "truncated",
        "served",
        "adjust_s",
        "logprob",
    )

    def __init__(self, plan: NodePlan, ctx: RunContext, start: float, instance: Instance | None = None):
        self.plan, self.ctx, self.start, self.instance = plan, ctx, start, instance
        self.model_latency = 0.0
        self.tokens_in = self.tokens_out = self.calls = self.cached = self.truncated = 0
        self.cost = 0.0
        self.served: ServedBy | None = None  # what the replies said answered (None: no reply yet)
        # Seconds to add to the node's wall time so that a real model's calls count at their own measured
        # latency: a cache hit (about no time) as first measured, a fresh call without its wait for a slot.
        self.adjust_s = 0.0
        self.logprob: float | None = None

    async def __call__(self, messages: list[Message], tools: list[dict] | None = None) -> Completion:
        plan, ctx = self.plan, self.ctx
        meter = ctx.meter
        held = None
        if not meter.budget.unlimited:
            chars = sum(len(str(m.get("content") or "")) for m in messages) + (len(json.dumps(tools)) if tools else 0)
            elapsed = self.start + self.model_latency if ctx.modelled else perf_counter() - ctx.t0
            held = meter.reserve(plan.id, plan.spec, chars, plan.max_tokens, elapsed)
        kwargs: dict[str, Any] = dict(
            temperature=plan.temperature,
            max_tokens=plan.max_tokens,
            seed=ctx.seed,
            tools=tools,
            sample=plan.sample,
            answer_key=ctx.answer_key,
        )
        t_call = perf_counter()
        try:
            # Only the output node's one run streams, and only when its one call is its reply: a loop round
            # or copy may not be the last, a node with tools makes calls whose text is not its output.
            if ctx.on_text is not None and ctx.stream_node == plan.id and self.instance is None and not plan.tools:
                comp = await stream_complete(plan.model, messages, ctx.on_text, **kwargs)
            elif ctx.coalescer is not None and not tools and ctx.coalescer.covers(plan.id):
                comp = await ctx.coalescer.complete(plan, messages, seed=ctx.seed, answer_key=ctx.answer_key)
            else:
                comp = await plan.model.complete(messages, **kwargs)
        finally:
            meter.release(held)
        usage = comp.usage
        cost = comp.cost_usd or plan.spec.cost(usage.input_tokens, usage.output_tokens)
        self.tokens_in += usage.input_tokens
        self.tokens_out += usage.output_tokens
        self.cost += cost
        self.calls += 1
        self.cached += int(comp.cached)
        if plan.spec.backend != "sim" or plan.instant:
            self.adjust_s += comp.latency_s - (perf_counter() - t_call)
        self.truncated += int(comp.finish_reason == "length")
        self.model_latency += comp.latency_s
        seen = ServedBy(served_model=comp.served_model, simulated=comp.simulated, sim_fingerprint=comp.sim_fingerprint)
        self.served = seen if self.served is None else self.served.merged(seen)
        self.logprob = comp.logprob
        meter.spend(usage.input_tokens + usage.output_tokens, cost)
        self._check_after(meter)
        return comp

    def _check_after(self, meter: BudgetMeter) -> None:
        """A call that spent more than its estimate (a model ignoring max_tokens) still stops the run."""
        b = meter.budget
        if b.max_tokens is not None and meter.tokens > b.max_tokens:
            raise BudgetExceededError(
                f"token budget exceeded at node '{self.plan.id}' ({self.plan.spec.id}): "
                f"{meter.tokens} spent > max_tokens {b.max_tokens}"
            )
        if b.max_usd is not None and meter.usd > b.max_usd:
            raise BudgetExceededError(
                f"dollar budget exceeded at node '{self.plan.id}' ({self.plan.spec.id}): "
                f"{money(meter.usd)} spent > max_usd {money(b.max_usd)}"
            )

    def trace(
        self,
        *,
        latency: float,
        start: float,
        end: float,
        answer: str | None = None,
        output: str = "",
        uses: Sequence[ToolUse] = (),
        error: str | None = None,
        inputs: Sequence[str] = (),
        verdicts: dict[str, str] | None = None,
    ) -> NodeTrace:
        plan, inst = self.plan, self.instance
        return NodeTrace(
            id=inst.id if inst is not None else plan.id,
            instance_of=inst.of if inst is not None else None,
            copy_index=inst.copy if inst is not None else None,
            round=inst.round if inst is not None else None,
            inputs=list(inputs),
            role=plan.role.name,
            model=plan.spec.id,
            answer=answer,
            output=output,
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            latency_s=latency,
            start_s=start,
            end_s=end,
            cost_usd=self.cost,
            calls=self.calls,
            cached_calls=self.cached,
            truncated_calls=self.truncated,
            simulated=self.served.simulated if self.served is not None else None,
            served_model=self.served.served_model if self.served is not None else None,
            sim_fingerprint=self.served.sim_fingerprint if self.served is not None else None,
            tools=[
                ToolEvent(tool=u.tool, arguments=u.arguments, ok=u.ok, summary=u.summary, note=u.note) for u in uses
            ],
            error=error,
            verdicts=verdicts or {},
            logprob=self.logprob,
        )
