"""Coalesced sampling: nodes of one model that read identical messages share one request with `n=k`.

A width-k ensemble (k solvers of one model over the same inputs) sends k requests that differ only
in their sample index, each carrying the whole prompt. Sent as one request with `n=k`, the endpoint
reads the prompt once and bills it once (OpenAI, vLLM). Which nodes can share is known when a graph
is compiled: same model, role, params and predecessors (so the same messages), chat mode, no tools,
on an OpenAI-compatible backend (in-process models have no request to share). At run time the first
member of a group to reach its call waits a few event-loop turns for the others (they become ready
together, since they await the same predecessors), then one `complete_many` serves them all, each
member getting its own sample. A member that arrives late just sends its own request; nobody ever
waits for a node that does not come. A router's plurality stage runs each voter as a graph of its own; its voters
share one coalescer, built from the stage graph's groups less the nodes it does not run (graphs/router_vote.py).

Only serve-sim draws choice i of a shared request exactly as a request for sample i alone, so only
there do results equal the uncoalesced run; a real endpoint's choices are other, equally valid draws,
which the response cache keeps apart from per-sample calls (`CachedChatModel.complete_n`). How large an
`n` an endpoint takes (llama.cpp's server: up to its parallel slots; llama-cpp-python: none) is learnt
once per model by the backend, which sends larger groups in smaller requests or as k plain requests,
and says so (`OpenAIChatModel.complete_n`). Turn it off with `Settings(coalesce=False)` (CLI
`--no-coalesce`) or a node param `coalesce: false`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from rolegraph.models.multi import complete_many

if TYPE_CHECKING:
    from rolegraph.chat.types import Completion, Message
    from rolegraph.graphs.nodes import NodePlan
    from rolegraph.graphs.spec import GraphSpec
    from rolegraph.items import AnswerKey

COALESCE_PARAM = "coalesce"
"""Node param: `false` keeps the node's calls out of any shared request."""
COALESCE_BACKENDS = frozenset({"openai"})
"""Backends whose requests can carry `n`: the others run in process, where there is no prompt to share."""
GATHER_TURNS = 8
"""Event-loop turns the first member of a group waits for the others before sending what it has."""


def coalesce_groups(spec: GraphSpec, plans: Mapping[str, NodePlan]) -> dict[str, str]:
    """{node id: group key} for nodes that will send identical requests, in groups of two or more."""
    keys: dict[str, str] = {}
    for node in spec.nodes:
        plan = plans[node.id]
        if (
            plan.spec.backend not in COALESCE_BACKENDS
            or plan.tools
            or plan.role.mode != "chat"
            or node.params.get(COALESCE_PARAM) is False
        ):
            continue
        identity = [plan.spec.id, plan.role.name, plan.temperature, plan.max_tokens, list(plan.preds), node.params]
        keys[node.id] = json.dumps(identity, sort_keys=True, default=str)
    sizes: dict[str, int] = {}
    for key in keys.values():
        sizes[key] = sizes.get(key, 0) + 1
    return {node_id: key for node_id, key in keys.items() if sizes[key] > 1}


def running_groups(groups: Mapping[str, str], idle: Collection[str]) -> dict[str, str]:
    """`groups` without the nodes in `idle` (nodes a run reads or skips instead of calling), and without the groups
    that leaves with a single member: a group's size is how many members its first one waits for, so a size
    counting a node that never calls would make it wait for nobody."""
    keys = {node_id: key for node_id, key in groups.items() if node_id not in idle}
    sizes: dict[str, int] = {}
    for key in keys.values():
        sizes[key] = sizes.get(key, 0) + 1
    return {node_id: key for node_id, key in keys.items() if sizes[key] > 1}


def _digest(messages: list[Message]) -> str:
    text = json.dumps(messages, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class _Batch:
    """The members of one shared request: their node ids, sample indices and the futures their answers go to."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.samples: list[int] = []
        self.futures: list[asyncio.Future] = []

    def join(self, node_id: str, sample: int) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self.ids.append(node_id)
        self.samples.append(sample)
        self.futures.append(fut)
        return fut


class Coalescer:
    """One run's shared requests. `complete` is called by each member node in place of its own call."""

    def __init__(self, groups: Mapping[str, str]):
        self.groups = groups
        self.sizes: dict[str, int] = {}
        for key in groups.values():
            self.sizes[key] = self.sizes.get(key, 0) + 1
        self._open: dict[tuple, _Batch] = {}
        self.requests = 0  # shared requests sent (each for two or more members)
        self.shared: dict[str, str] = {}
        """{node id: a label of the request that answered it}, for nodes answered two or more by one request: the
        run's latency lays them out as one slot turn (`schedule.alone_wall_s`)."""

    def covers(self, node_id: str) -> bool:
        return node_id in self.groups

    async def complete(
        self, plan: NodePlan, messages: list[Message], *, seed: int, answer_key: AnswerKey | None
    ) -> Completion:
        group = self.groups[plan.id]
        key = (group, _digest(messages), plan.temperature, plan.max_tokens, seed)
        batch = self._open.get(key)
        leader = batch is None
        if batch is None:
            batch = self._open[key] = _Batch()
        mine = batch.join(plan.id, plan.sample)
        if leader:
            try:
                for _ in range(GATHER_TURNS):
                    if len(batch.samples) >= self.sizes[group]:
                        break
                    await asyncio.sleep(0)
            finally:
                if self._open.get(key) is batch:
                    del self._open[key]
            await self._send(plan, messages, batch, seed=seed, answer_key=answer_key)
        return await mine

    async def _send(
        self, plan: NodePlan, messages: list[Message], batch: _Batch, *, seed: int, answer_key: AnswerKey | None
    ) -> None:
        """One `complete_many` for the batch; each member's future gets its own sample's completion (or the error)."""
        if len(batch.samples) > 1:
            self.requests += 1
        try:
            outs: list[Any] = await complete_many(
                plan.model,
                messages,
                samples=batch.samples,
                temperature=plan.temperature,
                max_tokens=plan.max_tokens,
                seed=seed,
                answer_key=answer_key,
            )
        except BaseException as exc:
            for fut in batch.futures:
                if fut.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    fut.cancel()
                else:
                    fut.set_exception(exc)
            for fut in batch.futures:  # the leader's own future too: it raises from here, never awaiting it
                if fut.done() and not fut.cancelled():
                    fut.exception()  # futures nobody awaits must not log "never retrieved"
            raise
        self._note_shared(batch.ids, outs)
        for fut, out in zip(batch.futures, outs):
            if not fut.done():
                fut.set_result(out)

    def _note_shared(self, ids: list[str], outs: list[Any]) -> None:
        """Which members one request answered. A request's choices all carry its one measured latency (a cached
        shared draw, the one it was first measured with); the endpoint's smaller requests (its `n` limit) or plain
        calls in their place (no `n`) are timed apart, each holding a slot of its own, so they stay apart here."""
        if len(ids) < 2:
            return
        by_request: dict[float, list[str]] = {}
        for node_id, out in zip(ids, outs):
            by_request.setdefault(out.latency_s, []).append(node_id)
        for members in by_request.values():
            if len(members) > 1:
                label = f"{self.requests}:{members[0]}"
                self.shared.update(dict.fromkeys(members, label))
