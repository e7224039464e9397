"""What `rolegraph serve` serves: anything that answers a question and streams its output node.

The server knows only the `Answerer` protocol, so a router (a cascade of graphs) plugs in by
implementing the same three members. `GraphAnswerer` is the graph's: it compiles the graph once,
connects its MCP servers for the server's lifetime (`async with`), and runs one graph run per
request, reporting node progress and the output node's text as it streams. A server outlives any one
run, so an MCP server that dies is restarted on its next call (the request that found it dead fails
with the node error), and `report` hears one line each time (the serve console).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from rolegraph.agents.registry import RoleRegistry
from rolegraph.errors import NodeFailedError, RolegraphError
from rolegraph.graphs.result import RunResult
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.openai_errors import CONTEXT_CAUSE, ModelCallError
from rolegraph.models.streaming import can_stream
from rolegraph.tools.toolbox import ToolBox  # a public signature's hint: resolvable at run time (get_type_hints)

Listener = Callable[[dict[str, Any]], None]
TextSink = Callable[[str], None]
Report = Callable[[str], None]
CANCELLED = "cancelled"  # the error of a node the run's failure cancelled (graphs/node_task.py)


class NotServableError(RolegraphError):
    """The graph cannot answer free-form questions (it has simulated models)."""


class RequestTooLongError(RolegraphError):
    """The request itself does not fit a node's model (`request_overflowed`): the client's to shorten (400). An
    answerer raises it for an overflow the request caused; any other failed node stays a `NodeFailedError` (502)."""


TOO_LONG_CODE = "context_length_exceeded"
"""The error `code` OpenAI gives a request longer than the model's context."""


def request_overflowed(exc: NodeFailedError) -> bool:
    """Whether a node failed because the request alone is too long for its model, not the graph's additions.

    The rule: the node's model refused the prompt as longer than its context (`CONTEXT_CAUSE`), and that prompt
    held nothing but the node's role instructions and the request: the node read no other node's output (an
    entry node; in a loop, its first round), it answers the request's own question (not a fan-out copy's
    sub-question) and the refused call was its first (no tool results yet). Any other overflow was built by the
    graph (predecessors' outputs, fan-in, loop rounds, tool results): the server's failure, not the client's.
    The failed node's trace in the run so far (`exc.partial`) says which it was."""
    cause = exc.__cause__
    if not isinstance(cause, ModelCallError) or cause.cause != CONTEXT_CAUSE:
        return False
    partial = exc.partial if isinstance(exc.partial, RunResult) else None
    failed = [
        n
        for n in (partial.nodes if partial is not None else ())
        if (n.instance_of or n.id) == exc.node_id and n.error is not None and n.error != CANCELLED
    ]
    return bool(failed) and all(not n.inputs and n.calls == 0 and n.copy_index is None for n in failed)


@dataclass
class Reply:
    """One answered question: the output node's text, its parsed answer, usage, and run details."""

    text: str
    answer: str | None
    tokens_in: int
    tokens_out: int
    simulated: bool
    details: dict[str, Any] = field(default_factory=dict)


class Answerer(Protocol):
    """What the server needs. `answer` calls `listener` with progress events and `on_text` with the output
    text as it is produced, in order, where the output streams: the concatenated deltas are a prefix of
    `Reply.text` (empty when nothing streams, e.g. a loop's output); the server sends the rest when the answer
    is done, so a streaming client always gets the whole text. A request too long for the answerer's model is
    `RequestTooLongError` (the client's 400); a `NodeFailedError` is the server's 502."""

    @property
    def model_id(self) -> str: ...

    @property
    def streams(self) -> bool:
        """The output text arrives as the model produces it (not split after the fact)."""
        ...

    async def answer(
        self, question: str, *, seed: int = 0, listener: Listener | None = None, on_text: TextSink | None = None
    ) -> Reply: ...


def run_details(result: RunResult) -> dict[str, Any]:
    """The extension field of a reply: how the graph got its answer (never keys or gold answers).

    `calls` and `cached_calls` as `run --json` gives them: with `serve --cache`, a reply answered from the response
    cache carries the latency and cost its calls had when first made (so fresh and cached replies agree, as in
    `run`), and without `cached_calls` nothing told a client that those dollars were not paid again."""
    return {
        "answer": result.answer,
        "output_node": result.output_node,
        "latency_s": round(result.latency_s, 4),
        "cost_usd": result.cost_usd,
        "calls": sum(n.calls for n in result.nodes),
        "cached_calls": sum(n.cached_calls for n in result.nodes),
        "notes": result.notes,
        "nodes": [
            {
                "id": n.id,
                "role": n.role,
                "model": n.model,
                "latency_s": round(n.latency_s, 4),
                "tokens_in": n.tokens_in,
                "tokens_out": n.tokens_out,
                "cached_calls": n.cached_calls,
                "truncated_calls": n.truncated_calls,  # finish_reason "length" when the output node was cut
                "tool_calls": [{"tool": e.tool, "arguments": e.arguments, "ok": e.ok} for e in n.tools],
            }
            for n in result.nodes
        ],
    }


class GraphAnswerer:
    """A graph as an `Answerer`. Use `async with` (it connects the graph's MCP servers, if any)."""

    def __init__(
        self,
        spec: GraphSpec,
        hub: ModelHub,
        *,
        toolbox: ToolBox | None = None,
        allow_commands: bool = False,
        model_id: str | None = None,
        roles: RoleRegistry | None = None,
        report: Report | None = None,
    ):
        sims = sorted({n.model for n in spec.nodes if hub.spec(n.model).simulated})
        if sims:
            raise NotServableError(
                f"graph '{spec.name}' uses simulated models ({', '.join(sims)}), which answer task items only; "
                "serve a graph of real models (local/smollm2-135m offline, or your endpoint in a pool file)"
            )
        self.spec, self.hub, self.toolbox, self.allow_commands = spec, hub, toolbox, allow_commands
        # a client that leaves ends its run's calls at once (the upstream stops generating, its slot is free): a
        # search keeps a cancelled call to cache and count it for its resume, but no one asks a served run again
        hub.in_flight.keep = False
        self.roles = roles  # a RoleRegistry with the graph's custom roles (default: the built-ins)
        self.report = report  # hears an MCP server's death and restart
        self.model_id = model_id or spec.name
        self._compiled: Any = None
        self._servers: Any = None

    @property
    def streams(self) -> bool:
        """The output node's text streams from its model as it is generated (see `whole_reason`)."""
        return self._compiled is not None and self.whole_reason is None

    @property
    def whole_reason(self) -> str | None:
        """Why the output node's text is sent whole when it is done, or None when it streams. A loop's output
        runs in rounds and only the last is the answer; a node with tools (or a searcher, a reader) makes calls
        whose text is not its output; the rule is the runtime's (graphs/nodes.py, `NodeCall`)."""
        c = self._compiled
        if c is None:
            return "the graph is not open"
        plan = c.plans[c.output]
        if c.dynamic is not None and c.output in c.dynamic.dyn.group_of:
            return "it runs in a loop: only its last round is the answer"
        if plan.tools:
            return f"it uses tools ({', '.join(plan.tools)})"
        if not can_stream(plan.model):
            return "its model cannot stream"
        return None

    async def __aenter__(self) -> GraphAnswerer:
        from rolegraph.graphs.runtime import CompiledGraph
        from rolegraph.tools.mcp import mcp_toolbox

        box = self.toolbox
        if self.spec.mcp_servers:
            self._servers = mcp_toolbox(
                self.spec.mcp_servers,
                self.hub.settings,
                self.toolbox,
                allow_commands=self.allow_commands,
                reconnect=True,
                report=self.report,
            )
            box = await self._servers.__aenter__()
        try:
            self._compiled = CompiledGraph(self.spec, self.hub, toolbox=box, roles=self.roles)
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the MCP servers and close the models. Idempotent: `serve` calls it from uvicorn's shutdown
        (before a captured signal is re-raised) and again when serving ends."""
        servers, self._servers = self._servers, None
        if servers is not None:
            await servers.__aexit__(None, None, None)
        await self.hub.aclose()

    async def answer(
        self, question: str, *, seed: int = 0, listener: Listener | None = None, on_text: TextSink | None = None
    ) -> Reply:
        if self._compiled is None:
            raise RuntimeError("GraphAnswerer is used outside its `async with` block")
        try:
            result = await self._compiled.run(question, seed=seed, listener=listener, on_text=on_text)
        except NodeFailedError as exc:
            if request_overflowed(exc):
                raise RequestTooLongError(f"the request is too long for the graph's model: {exc}") from exc
            raise
        out = result.node(result.output_node)
        return Reply(
            text=out.output,
            answer=result.answer,
            tokens_in=result.tokens_in,
            tokens_out=result.tokens_out,
            simulated=result.simulated,
            details=run_details(result),
        )
