"""Fuzzed model outputs: no answer, enormous, odd unicode, broken markup, broken tool calls. Every
parser and every role either reads an answer or reports none; a graph fed such outputs finishes
with a RunResult, never an exception.
"""
from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from rolegraph.agents.parsers import (MAX_HIT_CHARS, RoleOutput, format_evidence, parse_answer, parse_evidence,
                                      parse_no_answer, parse_plan, parse_queries, parse_verdicts)
from rolegraph.answers import MAX_SCAN_CHARS, extract_answer
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.chat.types import Completion, ToolCall, Usage
from rolegraph.settings import Settings

from .conftest import examples

KINDS = ("auto", "math", "mmlu", "code", "qa")
PARSERS = (parse_answer, parse_verdicts, parse_plan, parse_evidence, parse_no_answer)
FUZZ = settings(max_examples=examples(150), deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
MARKUP = ["Final answer:", "final answer is：", "\\boxed{", "\\boxed{}", "\\fbox{x}", "}", "{", "```", "```python\n",
          "Plan:", "Sub-questions:", "- ", "Evidence:", "[1] ", "(http://x)", "Verdict for a: correct",
          "Verdict for `b`: **incorrect**", "Query: ", "CALL calculator: ", "CALL search: {\"query\": ",
          "CALL python: ", "<tool_call>", "</tool_call>", "$", "**", "(A)", "Answer: B", "\n", "\r\n", "\x00",
          "\u202e", "\u200b", "\U0001f4a5", "٣", "½", "-", ".", ",", "1", "42", "3/4", "1e9"]
model_text = st.lists(st.one_of(st.sampled_from(MARKUP), st.text(max_size=12)), max_size=30).map("".join)


@FUZZ
@given(text=st.one_of(st.none(), model_text), kind=st.sampled_from(KINDS))
def test_answer_extraction_returns_text_or_none(text, kind):
    got = extract_answer(text, kind)
    assert got is None or isinstance(got, str)
    if kind == "mmlu" and got is not None:
        assert got in ("A", "B", "C", "D")


@FUZZ
@given(text=model_text, kind=st.sampled_from(KINDS), parser=st.sampled_from(PARSERS))
def test_every_role_parser_accepts_any_text(text, kind, parser):
    out = parser(text, kind)
    assert isinstance(out, RoleOutput) and out.text == text
    assert out.answer is None or isinstance(out.answer, str)
    if parser is parse_verdicts:
        assert set(out.fields["verdicts"].values()) <= {"correct", "incorrect"}
    if parser is parse_plan:
        assert all(isinstance(q, str) for q in out.fields["sub_questions"])
    if parser is parse_evidence:
        assert all(set(h) == {"title", "url", "text", "score"} for h in out.fields["evidence"])
    assert all(q.strip() for q in parse_queries(text))


answers = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 +\-]{0,20}[A-Za-z0-9]", fullmatch=True)
noise = model_text.filter(lambda t: "final answer" not in t.lower())


@FUZZ
@given(before=noise, answer=answers, kind=st.sampled_from(("auto", "math", "qa")))
def test_a_marked_answer_is_found_after_any_noise(before, answer, kind):
    assert extract_answer(f"{before}\nFinal answer: {answer}", kind) == answer


@pytest.mark.timeout(120)
@pytest.mark.parametrize("filler", ["x", "1 ", "{", "\\boxed{", "```", "Final answer: ", "é\u200b", "Verdict for a: "])
def test_enormous_outputs_are_scanned_from_the_tail(filler):
    text = filler * (3 * MAX_SCAN_CHARS // len(filler)) + "\nFinal answer: 17"
    for kind in ("auto", "math", "qa"):
        assert extract_answer(text, kind) == "17"
    assert extract_answer(text, "mmlu") in (None, "A", "B", "C", "D")
    for parser in PARSERS:  # the role parsers also read whole texts: they must finish and not raise
        parser(text, "math")


hit_titles = st.from_regex(r"[A-Za-z][A-Za-z0-9 ,'\-]{0,30}[A-Za-z0-9]", fullmatch=True)
hit_texts = st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9 ,.'\-]{0,60}", fullmatch=True), min_size=1, max_size=4)


@FUZZ
@given(hits=st.lists(st.fixed_dictionaries({
    "title": hit_titles, "url": st.sampled_from(["", "https://example.org/a", "file:x.txt"]),
    "text": hit_texts.map(" ".join)}), max_size=6))
def test_evidence_round_trips_through_its_text_format(hits):
    """A searcher's output is read back by successors: what it wrote is what they see."""
    back = parse_evidence(format_evidence(hits)).fields["evidence"]
    assert [(h["title"], h["url"]) for h in back] == [(h["title"], h["url"]) for h in hits]
    for got, sent in zip(back, hits):
        text = sent["text"].strip()
        if len(text) <= MAX_HIT_CHARS:
            assert got["text"] == text


# --- whole graphs fed by a model that writes anything ----------------------------------------------

class Scripted:
    """A ChatModel that answers from a script (cycling), with optional native tool calls."""

    def __init__(self, model_id: str):
        self._id = model_id
        self.script: list[tuple[str, list[ToolCall]]] = [("", [])]
        self._turns = itertools.count()

    @property
    def model_id(self) -> str:
        return self._id

    def reset(self, script: list[tuple[str, list[ToolCall]]]) -> None:
        self.script, self._turns = script or [("", [])], itertools.count()

    async def complete(self, messages, *, temperature=0.0, max_tokens=512, seed=0, tools=None, sample=0,
                       answer_key=None) -> Completion:
        text, calls = self.script[next(self._turns) % len(self.script)]
        return Completion(text=text, tool_calls=calls if tools else [], model_id=self._id,
                          usage=Usage(input_tokens=len(str(messages)) // 4, output_tokens=len(text) // 4))


MODEL = "sim/llama-3.2-3b"
GRAPH = GraphSpec(name="fuzz", nodes=[
    NodeSpec(id="p", role="planner", model=MODEL), NodeSpec(id="s", role="searcher", model=MODEL),
    NodeSpec(id="a", role="solver", model=MODEL, params={"tools": ["calculator"]}),
    NodeSpec(id="b", role="solver", model=MODEL), NodeSpec(id="v", role="verifier", model=MODEL),
    NodeSpec(id="f", role="fuser", model=MODEL)],
    edges=[("p", "s"), ("s", "a"), ("p", "b"), ("a", "v"), ("b", "v"), ("a", "f"), ("b", "f"), ("v", "f")])
ITEM = Item(id="q1", question="What is 6 * 7?", gold="42", family="math")
tool_calls = st.lists(st.builds(ToolCall, id=st.text(min_size=1, max_size=4),
                                name=st.sampled_from(["search", "calculator", "nope", ""]),
                                arguments=st.one_of(st.sampled_from(['{"query": "x"}', '{"expression": "6*7"}',
                                                                     "{not json", "[]", "null", '"s"', ""]),
                                                    st.text(max_size=10))), max_size=2)


@pytest.fixture(scope="module")
def scripted_graph(tmp_path_factory):
    """One compiled graph whose every node is the scripted model (compiled once for all examples)."""
    from rolegraph.tools.toolbox import default_toolbox

    settings_ = Settings(home=tmp_path_factory.mktemp("home"), cache=False)
    hub = ModelHub(ModelPool.builtin(), settings_)
    model = Scripted(MODEL)
    hub.use(MODEL, model)
    toolbox = default_toolbox(settings_, corpus=[{"title": "Six", "text": "six times seven is forty-two"}])
    return CompiledGraph(GRAPH, hub, toolbox=toolbox), model


@settings(max_examples=examples(40), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(script=st.lists(st.tuples(model_text, tool_calls), min_size=1, max_size=5),
       kind=st.sampled_from(("math", "qa", "mmlu", "code")))
def test_a_graph_of_nodes_writing_anything_still_returns_a_result(scripted_graph, script, kind):
    graph, model = scripted_graph
    model.reset(script)
    result = asyncio.run(graph.run(ITEM, answer_kind=kind))
    assert result.error is None and {n.id for n in result.nodes} == {n.id for n in GRAPH.nodes}
    assert result.answer is None or isinstance(result.answer, str)
    assert result.answer == result.node("f").answer
    for node in result.nodes:
        assert node.calls >= 1 and node.error is None
        for event in node.tools:  # a call to a tool the node does not have is a failed use, not a crash
            assert event.ok is False or event.tool in ("search", "calculator"), event
    assert result.node("s").output.startswith("Evidence:")


@pytest.mark.timeout(120)
def test_an_enormous_reply_flows_through_the_graph(scripted_graph):
    graph, model = scripted_graph
    model.reset([("word " * 400_000 + "\nFinal answer: 42", [])])
    result = asyncio.run(graph.run(ITEM, answer_kind="math"))
    assert result.error is None and result.answer == "42"
