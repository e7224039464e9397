"""The run-time half of coalescing (graphs/coalesce.py `Coalescer`), against a model that records what it is asked:
members of a group that call together share one `complete_n` with their own sample indices, and each member gets
the completion drawn for its own sample and its own messages, whatever order they arrive in; a member whose
messages differ never rides on another's request; a member whose partners never come sends alone (not counted as a
shared request); and a group calls again after its first request (nothing stays open)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from rolegraph.chat.types import Completion
from rolegraph.graphs.coalesce import Coalescer


class Recorder:
    """A model with `complete_n`: each completion names the last message and the sample it was drawn for."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, list[int]]] = []

    @staticmethod
    def _one(messages, sample: int) -> Completion:
        return Completion(text=f"{messages[-1]['content']}#{sample}", model_id="m")

    async def complete(self, messages, *, sample: int = 0, **_) -> Completion:
        self.requests.append((messages[-1]["content"], [sample]))
        return self._one(messages, sample)

    async def complete_n(self, messages, *, samples, **_) -> list[Completion]:
        self.requests.append((messages[-1]["content"], list(samples)))
        return [self._one(messages, s) for s in samples]


@dataclass
class Plan:  # what `Coalescer.complete` reads of a NodePlan
    id: str
    sample: int
    model: Recorder
    temperature: float = 0.7
    max_tokens: int = 64


def ask(question: str) -> list[dict]:
    return [{"role": "user", "content": question}]


def run(coalescer: Coalescer, calls: list[tuple[Plan, str]]) -> list[str]:
    async def go():
        outs = await asyncio.gather(
            *(coalescer.complete(plan, ask(q), seed=0, answer_key=None) for plan, q in calls)
        )
        return [o.text for o in outs]

    return asyncio.run(go())


def test_members_share_one_request_and_each_gets_its_own_sample_in_any_arrival_order():
    model = Recorder()
    plans = {n: Plan(n, s, model) for n, s in (("a", 0), ("b", 1), ("c", 2))}
    coalescer = Coalescer(dict.fromkeys(plans, "g"))
    texts = run(coalescer, [(plans["c"], "q"), (plans["a"], "q"), (plans["b"], "q")])
    assert texts == ["q#2", "q#0", "q#1"]  # c, a, b each their own sample
    assert len(model.requests) == 1 and sorted(model.requests[0][1]) == [0, 1, 2]
    assert coalescer.requests == 1


def test_a_member_with_other_messages_never_gets_anothers_completion():
    model = Recorder()
    a, b = Plan("a", 0, model), Plan("b", 1, model)
    texts = run(Coalescer({"a": "g", "b": "g"}), [(a, "first"), (b, "second")])
    assert texts == ["first#0", "second#1"]
    assert sorted(model.requests) == [("first", [0]), ("second", [1])]


def test_a_member_whose_partners_never_come_sends_alone_and_is_not_a_shared_request():
    model = Recorder()
    coalescer = Coalescer({"a": "g", "b": "g", "c": "g"})
    assert run(coalescer, [(Plan("a", 0, model), "q")]) == ["q#0"]
    assert model.requests == [("q", [0])]
    assert coalescer.requests == 0


def test_a_group_calls_again_after_its_first_shared_request():
    model = Recorder()
    a, b = Plan("a", 0, model), Plan("b", 1, model)
    coalescer = Coalescer({"a": "g", "b": "g"})

    async def twice():
        first = await asyncio.gather(*(coalescer.complete(p, ask("q"), seed=0, answer_key=None) for p in (a, b)))
        # the same call again (a node's second call): a batch left open would leave these waiting forever
        again = asyncio.gather(*(coalescer.complete(p, ask("q"), seed=0, answer_key=None) for p in (a, b)))
        return [o.text for o in first], [o.text for o in await asyncio.wait_for(again, 30)]

    first, second = asyncio.run(twice())
    assert first == second == ["q#0", "q#1"]
    assert len(model.requests) == 2 and coalescer.requests == 2
