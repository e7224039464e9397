"""What one run of a node reads when the graph is dynamic, and the progress events nodes emit.

A node's predecessors resolve to result dicts; a fan-out group's node resolves to a list of them
(one per copy), which a reader takes as one input section per copy. An `Instance` (a fan-out copy
or a loop round) may bring inputs of its own: a copy's assignment comes first, then the
predecessors, then (for a loop round) the feedback of earlier rounds, which the caller passes as
extra predecessor futures.
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator, Sequence
from typing import Any

from rolegraph.graphs.nodes import Instance, NodePlan, RunContext
from rolegraph.graphs.result import NodeTrace


class Copies(list):
    """A fan-out group node's results, one per copy that ran, and `ready_s`: when its spawner decided (the source's
    end on the run's clock). A reader starts no earlier, even when no copy ran: it awaited the source through the
    spawner, and a reader of zero copies that started at the run's clock0 was modelled as running beside the source
    (the run's latency short by the source's time) and its time-budget check read that early start, so a node past
    `max_seconds` still ran."""

    __slots__ = ("ready_s",)

    def __init__(self, results: Sequence[dict[str, Any]], ready_s: float):
        super().__init__(results)
        self.ready_s = ready_s


def ready_floor(preds: Sequence[Any]) -> float | None:
    """The latest `ready_s` of the fan-out groups among `preds` (None: no group among them)."""
    return max((p.ready_s for p in preds if isinstance(p, Copies)), default=None)


def instance_inputs(preds: Sequence[Any], instance: Instance | None, ctx: RunContext) -> list[dict[str, Any]]:
    """The flat list of results a node reads; releases the budget a spawner held for this copy."""
    flat: list[dict[str, Any]] = list(instance.sections) if instance is not None else []
    for p in preds:
        if isinstance(p, list):
            flat.extend(p)
        else:
            flat.append(p)
    if instance is not None and instance.held is not None:
        ctx.meter.release(instance.held)
    return flat


def node_event(kind: str, node_id: str, plan: NodePlan, trace: NodeTrace | None = None) -> dict[str, Any]:
    """A progress event: {"event", "node", "role", "model"} plus, at the end, tokens, latency and answer."""
    event: dict[str, Any] = {"event": kind, "node": node_id, "role": plan.role.name, "model": plan.spec.id}
    if trace is not None:
        event.update(
            tokens_in=trace.tokens_in,
            tokens_out=trace.tokens_out,
            latency_s=round(trace.latency_s, 4),
            answer=trace.answer,
            tool_calls=len(trace.tools),
        )
    return event


class Pick:
    """An awaitable for one node's part of a group's result (each reader gets its own Pick)."""

    __slots__ = ("future", "key")

    def __init__(self, future: Awaitable[dict[str, Any]], key: str):
        self.future, self.key = future, key

    def __await__(self) -> Generator[Any, None, Any]:
        value = yield from self.future.__await__()
        return value[self.key]


class Ready:
    """An awaitable that is already resolved (a value passed where a node expects a future)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        return self.value
        yield  # pragma: no cover - makes this a generator


def worst_spend(plans: Sequence[NodePlan], prompt_chars: int, kind: str, formats: Any) -> tuple[int, float]:
    """Tokens and dollars that one run of each of `plans` may spend at most: every call at its prompt
    estimate (system prompt, `prompt_chars` of question and inputs, its inputs at their max_tokens)
    plus its max_tokens; a tool-using node may call its model once per tool round and once more."""
    from rolegraph.agents.tooluse import MAX_TOOL_ROUNDS
    from rolegraph.graphs.budget import estimate_prompt_tokens

    tokens, usd = 0, 0.0
    inputs_tokens = 0
    for plan in plans:
        calls = MAX_TOOL_ROUNDS + 1 if plan.tools and plan.role.mode == "chat" else 1
        prompt = estimate_prompt_tokens(len(plan.system_prompt(kind, formats)) + prompt_chars) + inputs_tokens
        tokens += calls * (prompt + plan.max_tokens)
        usd += calls * plan.spec.cost(prompt, plan.max_tokens)
        inputs_tokens += plan.max_tokens
    return tokens, usd
