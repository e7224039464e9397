"""A node reading searchers is sent no more evidence than its model's context window holds with its `max_tokens`:
the lowest-ranked hits go first, whole, never the question, the role's instructions or another node's output; a
prompt that fits is sent as it was; and a cut is said (the result's `trim`, one warning)."""
from __future__ import annotations

import asyncio
import warnings
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from rolegraph.agents.agent import run_agent
from rolegraph.agents.parsers import format_evidence, parse_evidence
from rolegraph.agents.registry import RoleRegistry
from rolegraph.agents.trim import EvidenceTrimmedWarning
from rolegraph.models.tokens import text_tokens
from rolegraph.transcript import Section, read_question, read_sections, render_input

from .conftest import ScriptedCaller

REG = RoleRegistry.default()
QUESTION = "Who discovered penicillin, and where was he born?"
PLAN = "Plan: find the discoverer, then his birthplace.\n- Who discovered penicillin?\n- Where was he born?"
HITS = 6
WORDS = ("mould culture staphylococcus laboratory london scotland physician bacteria experiment discovery "
         "hospital medicine").split()


def _hits(searcher: int) -> list[dict]:
    """Six hits of ~1,000 characters each (under MAX_HIT_CHARS: sent whole), ~250 tokens of prose, titled by
    searcher and rank."""
    return [{"title": f"S{searcher} R{rank}", "url": "", "text": " ".join(WORDS[(rank + i) % len(WORDS)]
             for i in range(105))} for rank in range(1, HITS + 1)]


def _sections() -> list[Section]:
    return [Section(1, "plan", "planner", PLAN), Section(2, "s1", "searcher", format_evidence(_hits(1))),
            Section(3, "s2", "searcher", format_evidence(_hits(2)))]


@dataclass
class WindowedCaller(ScriptedCaller):
    """A scripted caller bound to a model with a context window, as the runtime's caller is (its node's plan)."""

    window: int = 0
    max_tokens: int = 128
    plan: SimpleNamespace = field(init=False)

    def __post_init__(self) -> None:
        self.plan = SimpleNamespace(spec=SimpleNamespace(id="test/small", context_window=self.window),
                                    max_tokens=self.max_tokens)


def _run(caller, sections, question=QUESTION):
    system = REG.system_prompt("solver", "qa")
    result = asyncio.run(run_agent(REG.get("solver"), system, question, sections, caller, kind="qa", toolbox=None,
                                   tools=(), native=False))
    return system, result


def _kept(user: str) -> dict[str, list[str]]:
    return {s.node: [h["title"] for h in parse_evidence(s.text).fields["evidence"]]
            for s in read_sections(user) if s.role == "searcher"}


def test_a_prompt_that_fits_is_sent_as_it_was():
    caller = WindowedCaller([("Final answer: Fleming", [])], window=131072)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EvidenceTrimmedWarning)
        system, result = _run(caller, _sections())
    assert caller.sent[0][1]["content"] == render_input(QUESTION, _sections())
    assert result.trim is None and result.output.answer == "Fleming"


def test_evidence_past_the_window_is_cut_lowest_ranked_first_and_said():
    caller = WindowedCaller([("Final answer: Fleming", [])], window=2048, max_tokens=128)
    with pytest.warns(EvidenceTrimmedWarning, match="test/small's context window of 2048 tokens"):
        system, result = _run(caller, _sections())
    sent_system, sent_user = (m["content"] for m in caller.sent[0])
    assert sent_system == system and read_question(sent_user) == QUESTION  # never cut
    plan = next(s for s in read_sections(sent_user) if s.node == "plan")
    assert plan.text == PLAN  # another node's output is not evidence: kept whole
    kept = _kept(sent_user)
    for searcher, titles in kept.items():
        n = len(titles)
        assert 1 <= n < HITS and titles == [f"S{searcher[1]} R{r}" for r in range(1, n + 1)]  # the best ranks stay
    assert abs(len(kept["s1"]) - len(kept["s2"])) <= 1  # each searcher's lowest rank goes before any higher one
    # what was sent fits: the prompt (its messages and ~16 tokens of chat template) and the reply's max_tokens
    assert text_tokens(sent_system) + text_tokens(sent_user) + 16 + 128 <= 2048
    assert text_tokens(render_input(QUESTION, _sections())) + 128 > 2048  # and would not have, whole
    trim = result.trim
    assert trim is not None and trim.window == 2048 and trim.tokens > 0
    assert sum(len(titles) for titles in kept.values()) == 2 * HITS - trim.hits_dropped  # a hit cut short is sent
    texts = [h["text"] for s in read_sections(sent_user) if s.role == "searcher"
             for h in parse_evidence(s.text).fields["evidence"]]
    whole = {h["text"] for n in (1, 2) for h in _hits(n)}
    assert sum(text not in whole for text in texts) == trim.hits_cut <= 1  # at most the last one, at a word
    assert all(text in whole or text.endswith(" ...") for text in texts)


def test_a_question_longer_than_the_window_is_left_for_the_server_to_refuse():
    """Evidence is all that may be cut: when even none would not fit, nothing is cut (the refusal says why)."""
    question = "Explain this: " + " ".join(WORDS * 80)  # ~1,000 words: over a 512-token window by itself
    caller = WindowedCaller([("Final answer: x", [])], window=512, max_tokens=64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EvidenceTrimmedWarning)
        _, result = _run(caller, _sections(), question)
    assert caller.sent[0][1]["content"] == render_input(question, _sections()) and result.trim is None


def test_a_caller_without_a_known_window_sends_everything():
    caller = ScriptedCaller([("Final answer: Fleming", [])])  # no plan: no window to fit
    _, result = _run(caller, _sections())
    assert caller.sent[0][1]["content"] == render_input(QUESTION, _sections()) and result.trim is None
