"""One node as a LangGraph task: await its inputs' futures, run its role's agent on its model, and record
the node's trace (also when it fails or is cancelled) in the run's context. `CompiledGraph` makes one per node.

A failure that already says what is wrong (`PASS_THROUGH`: budget, setup) is raised as it is; any other
exception becomes a `NodeFailedError` naming the node, its role and its model."""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from time import perf_counter
from typing import Any

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
)
from rolegraph.graphs.instances import instance_inputs, node_event, ready_floor
from rolegraph.graphs.nodes import Instance, NodeCall, NodePlan, RunContext
from rolegraph.tools.toolbox import ToolBox
from rolegraph.transcript import Section

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


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _failed_latency(exc: BaseException, model_latency: float, elapsed: float) -> float:
    """A failed node's time on the modelled clock. A transport failure (`ModelCallError`: an endpoint that
    kept failing) took real time in attempts and backoff that no modelled latency covers: without it a run
    that waited half a minute on retries would report a few milliseconds. Any other stop (a budget refusal,
    a cancellation) keeps its modelled time, so in-process sim runs stay deterministic. The error class is
    looked up, not imported: its module imports openai, and a run that never loaded it raised none."""
    errors = sys.modules.get("rolegraph.models.openai_errors")
    transport = errors is not None and isinstance(exc, errors.ModelCallError)
    return model_latency + elapsed if transport else model_latency


def node_task(
    plan: NodePlan, roles: RoleRegistry, toolbox: ToolBox | None, live: Mapping[str, RunContext]
) -> Callable[..., Coroutine[Any, Any, dict]]:
    """The task function of `plan`'s node; `live` maps a run's token to its context while the run lasts."""

    async def run_node(inputs: dict, run: str, *pred_futures, instance: Instance | None = None) -> dict:
        ctx = live.get(run)
        if ctx is None:  # the run already ended (another node failed): this task has nothing to report to
            raise asyncio.CancelledError
        preds: Sequence[Any]
        if len(pred_futures) > 1:
            preds = await asyncio.gather(*pred_futures)
        else:  # no gather (and its extra future) for the commonest cases: a source, a chain link
            preds = (await pred_futures[0],) if pred_futures else ()
        floor = ready_floor(preds)  # a fan-out group's readers start after its source, even when no copy ran
        if instance is not None or any(isinstance(p, list) for p in preds):
            preds = instance_inputs(preds, instance, ctx)
        node_id = instance.id if instance is not None else plan.id
        question = instance.question if instance is not None and instance.question else ctx.question
        if ctx.listener is not None:
            ctx.listener(node_event("node_start", node_id, plan))
        ends = [p["end_s"] for p in preds]
        start_model = max(ends, default=ctx.clock0) if floor is None else max([floor, *ends])
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
                latency = _failed_latency(exc, call.model_latency, elapsed) if ctx.modelled else elapsed
                ctx.traces[node_id] = call.trace(
                    latency=latency,
                    start=start_model,
                    end=start_model + latency,
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
        if res.trim is not None:  # its searchers' evidence was cut to fit its model's context window (agents/trim.py)
            trace.trimmed_evidence_tokens = res.trim.tokens
            trace.trimmed_hits = res.trim.hits_dropped + res.trim.hits_cut
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
