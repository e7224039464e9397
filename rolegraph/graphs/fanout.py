"""Dynamic fan-out at run time: a source node's list output spawns copies of a sub-graph.

The spawner is a LangGraph task of its own: it awaits the source (a planner) and nothing else,
reads the list in the source's parsed field (`sub_questions` by default), and launches one copy of
the group per item, at most `max_fanout`, each node of each copy a LangGraph task (so the copies
run concurrently, each node awaiting only its own inputs, and LangGraph's stream shows every one).

What a copy sees: its question is its item (the sub-question); in place of the source's whole
output it reads an assignment naming the item and the overall question; it reads the group's other
inputs as they are. Successors outside the group read every copy's output, one section each.

Budget: before each copy the spawner asks the run's meter whether the copy's worst case still fits
(tokens, dollars, seconds); the first copy that does not fit stops the spawning, and the run goes
on with the copies it has. The run's notes say how many items there were, how many copies ran, and
why any were left out (also when the source listed nothing: validation checks `over` against the
built-in roles' lists, but a user's parser is known only by what it returns).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from time import perf_counter
from typing import Any

from rolegraph.graphs.dynamic import FanoutGroup, copy_id
from rolegraph.graphs.instances import Copies, worst_spend
from rolegraph.graphs.nodes import Instance, NodePlan, RunContext
from rolegraph.transcript import QUESTION_HEAD

MAX_ITEM_CHARS = 500  # of one spawned question: a planner line, not a document


def assignment_text(item: str, index: int, total: int, question: str) -> str:
    """What a copy reads from the source: its own item only (the other items are other copies' work)."""
    return (
        f"Your part: sub-question {index} of {total} of the overall question.\n"
        f"Overall question: {question.strip()}\n"
        f"Sub-questions:\n- {item}"
    )


def _items(result: Mapping[str, Any], field: str) -> list[str]:
    value = (result.get("fields") or {}).get(field)
    if not isinstance(value, list | tuple):
        return []
    items = [" ".join(str(v).split())[:MAX_ITEM_CHARS] for v in value if str(v).strip()]
    return list(dict.fromkeys(items))


class Spawner:
    """The body of one fan-out group's LangGraph task (see the module docstring)."""

    def __init__(
        self,
        group: FanoutGroup,
        plans: Mapping[str, NodePlan],
        preds: Mapping[str, tuple[str, ...]],
        tasks: Mapping[str, Any],
        formats: Any,
        live: Mapping[str, RunContext],
    ):
        self.group, self.plans, self.preds, self.tasks, self.formats = group, plans, preds, tasks, formats
        self.live = live  # the contexts of the runs in flight, by the token their tasks get
        members = set(group.nodes)
        self.outside = tuple(
            dict.fromkeys(p for n in group.nodes for p in preds[n] if p not in members and p != group.source)
        )
        """Inputs of the group other than the source, passed to every copy (in this order after the source)."""

    def function(self):
        spawner = self

        async def spawn(inputs: dict, run: str, source: Any, *outside: Any) -> dict:
            return await spawner.run(inputs, run, source, outside)

        spawn.__name__ = f"fanout_{self.group.source}"
        spawn.__signature__ = inspect.signature(spawn)
        return spawn

    async def run(self, inputs: dict, run: str, source_future: Any, outside: tuple[Any, ...]) -> dict:
        ctx = self.live[run]
        g = self.group
        src = await source_future
        items = _items(src, g.over)
        note = f"fanout from '{g.source}': {len(items)} item(s) in {g.over}"
        if not items:
            items = [" ".join(ctx.question.split())[:MAX_ITEM_CHARS]]
            listed = isinstance((src.get("fields") or {}).get(g.over), list | tuple)
            why = "none listed" if listed else f"its output has no list '{g.over}'"
            note += f"; {why}, so one copy runs on the question itself"
        wanted = items[: g.max_fanout]
        if len(items) > g.max_fanout:
            note += f"; capped at max_fanout {g.max_fanout}"
        elapsed = src["end_s"] if ctx.modelled else perf_counter() - ctx.t0
        held, stop = self._reserve(ctx, wanted, elapsed)
        spawned = wanted[: len(held)]
        note += f"; spawned {len(spawned)} x [{', '.join(g.nodes)}]"
        if stop:
            note += f"; stopped before copy {len(spawned) + 1} ({stop})"
        ctx.notes.append(note)
        outside_of = dict(zip(self.outside, outside))
        copies: list[dict[str, Any]] = []
        for i, item in enumerate(spawned, start=1):
            assignment = {
                "id": g.source,
                "role": src["role"],
                "output": assignment_text(item, i, len(spawned), ctx.question),
                "answer": None,
                "end_s": src["end_s"],
                "fields": {},
            }
            futures: dict[str, Any] = {}
            for j, node in enumerate(g.nodes):
                preds = [futures[p] if p in futures else outside_of[p] for p in self.preds[node] if p != g.source]
                instance = Instance(
                    copy_id(node, i),
                    node,
                    question=item,
                    sections=(assignment,) if g.source in self.preds[node] else (),
                    copy=i,
                    held=held[i - 1] if j == 0 else None,
                )
                futures[node] = self.tasks[node](inputs, run, *preds, instance=instance)
            copies.append(futures)
        done = await asyncio.gather(*(f for c in copies for f in c.values())) if copies else []
        it = iter(done)
        results = [{node: next(it) for node in c} for c in copies]
        return {node: Copies([r[node] for r in results], src["end_s"]) for node in g.nodes}

    def _reserve(self, ctx: RunContext, items: list[str], elapsed: float) -> tuple[list[Any], str | None]:
        """One budget hold per copy that fits; the reason the next one did not, if any."""
        held: list[Any] = []
        plans = [self.plans[n] for n in self.group.nodes]
        for item in items:
            chars = len(item) * 2 + len(ctx.question) + len(QUESTION_HEAD) * 2
            tokens, usd = worst_spend(plans, chars, ctx.kind, self.formats)
            why = ctx.meter.shortfall(tokens, usd, elapsed)
            if why is not None:
                return held, why
            held.append(ctx.meter.hold(tokens, usd))
        return held, None
