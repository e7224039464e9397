"""Bounded loops at run time: a loop group runs in rounds until its stop condition or `max_rounds`.

The loop is a LangGraph task of its own. Round r launches every node of the group as a LangGraph
task; each awaits only its own inputs: its predecessors of the same round, its inputs from outside
the loop (the same every round), and, from round 2 on, the feedback of its back edges. After the
round the stop condition is read; the next round starts only if it does not hold, the bound is not
reached, and the budget can still pay for a whole round (otherwise the loop ends with what it has,
and the run's notes say why). Nodes after the loop read the last round.

What a node sees of earlier rounds (this fixes the worst-case cost in `dynamic.worst_case`): the
target of a back edge `from -> to` reads `from`'s output of the previous round (`sees: last`), or of
every earlier round (`sees: all`, one more input per round); no node sees anything else of earlier
rounds. Stop conditions, read on the round just finished:

- `accepted`: every back edge's source accepts the round. A verifier accepts when its verdicts on the
  nodes it read in this round (its inputs inside the loop, named by round id `solve@3`, else by bare
  id `solve`; case ignored) are all "correct" and there is at least one. Verdicts on anything else are
  ignored: a verifier may quote its inputs, and a revised answer quotes the previous round's review
  ("Verdict for solve@1: incorrect"), which would otherwise reject every round after a first
  rejection. A source with no verdict lines at all accepts when its answer is the answer of each node
  it read in the loop;
- `agreement`: every answering node of the loop gave the same answer (a node with no answer breaks it);
- `unchanged`: no node's answer changed from the previous round;
- `never`: always `max_rounds` rounds.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Mapping
from time import perf_counter
from typing import Any

from rolegraph.graphs.dynamic import LoopGroup, round_id
from rolegraph.graphs.instances import worst_spend
from rolegraph.graphs.nodes import Instance, NodePlan, RunContext

_SPACE = re.compile(r"\s+")
POSITIVE_VERDICT = "correct"


def _norm(answer: Any) -> str | None:
    if answer is None:
        return None
    return _SPACE.sub(" ", str(answer)).strip().strip(".").lower() or None


def accepted(
    group: LoopGroup, results: Mapping[str, dict], preds: Mapping[str, tuple[str, ...]], round_no: int
) -> bool:
    """Whether round `round_no` is accepted (the rule is in the module docstring)."""
    members = set(group.nodes)
    for src, _ in group.back:
        res = results[src]
        read = [p for p in preds[src] if p in members]
        verdicts = (res.get("fields") or {}).get("verdicts") or {}
        if verdicts:
            by_key = {str(k).strip().lower(): v for k, v in verdicts.items()}
            on = [by_key.get(round_id(p, round_no).lower(), by_key.get(p.lower())) for p in read]
            current = [v for v in on if v is not None]
            if not current or any(v != POSITIVE_VERDICT for v in current):
                return False
            continue
        own = _norm(res.get("answer"))
        answers = [_norm(results[p].get("answer")) for p in read]
        if own is None or any(a != own for a in answers):
            return False
    return True


def agreement(results: Mapping[str, dict]) -> bool:
    """Whether every node of `results` gave the same answer. A node with no answer (its reply had none, or
    it failed) breaks agreement: it was left out of the comparison, so one answer beside a silent node
    stopped the loop as if the two had agreed."""
    answers = [_norm(r.get("answer")) for r in results.values()]
    return bool(answers) and None not in answers and len(set(answers)) == 1


def unchanged(results: Mapping[str, dict], previous: Mapping[str, dict] | None) -> bool:
    if previous is None:
        return False
    return all(_norm(results[n].get("answer")) == _norm(previous[n].get("answer")) for n in results)


class LoopRunner:
    """The body of one loop group's LangGraph task (see the module docstring)."""

    def __init__(
        self,
        group: LoopGroup,
        plans: Mapping[str, NodePlan],
        preds: Mapping[str, tuple[str, ...]],
        tasks: Mapping[str, Any],
        formats: Any,
        live: Mapping[str, RunContext],
    ):
        self.group, self.plans, self.preds, self.tasks, self.formats = group, plans, preds, tasks, formats
        self.live = live  # the contexts of the runs in flight, by the token their tasks get
        members = set(group.nodes)
        self.outside = tuple(dict.fromkeys(p for n in group.nodes for p in preds[n] if p not in members))
        self.feedback: dict[str, list[str]] = {n: [] for n in group.nodes}
        for src, dst in group.back:
            self.feedback[dst].append(src)

    def function(self):
        runner = self

        async def loop(inputs: dict, run: str, *outside: Any) -> dict:
            return await runner.run(inputs, run, outside)

        loop.__name__ = f"loop_{self.group.nodes[0]}"
        loop.__signature__ = inspect.signature(loop)
        return loop

    def _stop(self, results: Mapping[str, dict], previous: Mapping[str, dict] | None, round_no: int) -> bool:
        until = self.group.until
        if until == "accepted":
            return accepted(self.group, results, self.preds, round_no)
        if until == "agreement":
            return agreement({n: r for n, r in results.items() if self.plans[n].role.answers})
        if until == "unchanged":
            return unchanged(results, previous)
        return False

    async def run(self, inputs: dict, run: str, outside: tuple[Any, ...]) -> dict:
        ctx = self.live[run]
        g = self.group
        outside_of = dict(zip(self.outside, outside))
        history: dict[str, list[Any]] = {n: [] for n in g.nodes}
        previous: dict[str, dict] | None = None
        why = f"reached max_rounds {g.max_rounds}"
        for r in range(1, g.max_rounds + 1):
            futures: dict[str, Any] = {}
            for node in g.nodes:
                preds = [futures[p] if p in futures else outside_of[p] for p in self.preds[node]]
                for src in self.feedback[node]:
                    earlier = history[src] if g.sees == "all" else history[src][-1:]
                    preds += earlier
                futures[node] = self.tasks[node](
                    inputs, run, *preds, instance=Instance(round_id(node, r), node, round=r)
                )
            done = await asyncio.gather(*futures.values())
            results = dict(zip(futures, done))
            for node, fut in futures.items():
                history[node].append(fut)
            if self._stop(results, previous, r):
                why = f"'{g.until}' held"
                previous = results
                break
            previous = results
            if r < g.max_rounds:
                short = self._shortfall(ctx, results)
                if short is not None:
                    why = f"the next round would not fit the budget ({short})"
                    break
        ctx.notes.append(f"loop {g.label()}: {r} round(s) of at most {g.max_rounds}; stopped: {why}")
        assert previous is not None
        return previous

    def _shortfall(self, ctx: RunContext, results: Mapping[str, dict]) -> str | None:
        plans = [self.plans[n] for n in self.group.nodes]
        chars = len(ctx.question) + sum(len(r.get("output") or "") for r in results.values())
        tokens, usd = worst_spend(plans, chars, ctx.kind, self.formats)
        elapsed = max(r["end_s"] for r in results.values()) if ctx.modelled else perf_counter() - ctx.t0
        return ctx.meter.shortfall(tokens, usd, elapsed)
