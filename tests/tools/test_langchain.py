"""LangChain tools <-> rolegraph tools, and a LangChain tool as the searcher's search in a real sim run."""
from __future__ import annotations

import asyncio

import pytest
from langchain_core.documents import Document
from langchain_core.tools import BaseTool, StructuredTool, ToolException, tool
from langchain_core.utils.function_calling import convert_to_openai_tool

from rolegraph.evaluate.runner import evaluate
from rolegraph.graphs.runtime import run_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tasks.base import Task
from rolegraph.tools.calculator import Calculator
from rolegraph.tools.langchain import (LangChainTool, as_hits, from_langchain, to_langchain, tool_name,
                                       toolbox_from_langchain, toolbox_to_langchain)
from rolegraph.tools.toolbox import ToolBox

# Made-up facts, so no model could know them without the tool.
FACTS = {"Zorbania": "Quellport", "Vantria": "Oskelund", "Merovy": "Taldrin", "Pelsk": "Hurnavik",
         "Isgard Minor": "Brevholm", "Cathmor": "Ulverton", "Dravenne": "Solbeck", "Nolk": "Farrowdale",
         "Tessaly Reach": "Quinmoor", "Orvada": "Kelspire", "Brisk Isles": "Ambervale", "Ystra": "Hollowmere",
         "Kandor East": "Piremont", "Veloria": "Saltcombe", "Rhun Marches": "Westerly", "Gallowmark": "Tiverne"}


def run(coro):
    return asyncio.run(coro)


@tool
def lookup(q: str, k: int = 2) -> list:
    """Look up countries in the gazetteer."""
    words = {w.strip("?.,").lower() for w in q.split()}
    docs = [Document(page_content=f"The capital of {country} is {capital}.",
                     metadata={"title": country, "source": f"https://gazetteer.example/{country.replace(' ', '_')}"})
            for country, capital in FACTS.items() if set(country.lower().split()) & words]
    return docs[:k]


def test_tool_decorator_becomes_a_rolegraph_tool_with_schema_and_hits():
    rg = from_langchain(lookup, name="search")
    assert isinstance(rg, LangChainTool) and rg.name == "search" and "gazetteer" in rg.description
    assert rg.parameters["required"] == ["q"] and rg.parameters["properties"]["k"]["type"] == "integer"
    res = run(rg.call(q="Where is Zorbania?"))
    assert res.ok and "[1] Zorbania (https://gazetteer.example/Zorbania)" in res.text and "Quellport" in res.text
    assert res.data["hits"] == [{"title": "Zorbania", "url": "https://gazetteer.example/Zorbania",
                                 "text": "The capital of Zorbania is Quellport.", "score": None}]
    # what the searcher role sends ({"query": ...}) reaches the tool's lone required argument
    via_query = run(ToolBox([rg]).call("search", {"query": "Vantria", "k": "1"}))
    assert via_query.ok and via_query.data["hits"][0]["title"] == "Vantria"
    assert not run(rg.call(k=1)).ok  # still insists on the required argument


def test_string_artifact_error_and_basetool_outputs():
    @tool
    def shout(text: str) -> str:
        """Upper-case the text."""
        return text.upper()

    @tool(response_format="content_and_artifact")
    def finder(query: str):
        """Find things."""
        return f"1 result for {query}", [{"name": "Thing", "snippet": "a thing", "link": "https://x.example"}]

    @tool
    def broken(query: str) -> str:
        """Always fails."""
        raise ToolException("backend down")

    class Counter(BaseTool):  # a sync-only BaseTool subclass
        name: str = "count words"
        description: str = "Count the words of a text."

        def _run(self, text: str) -> int:
            return len(text.split())

    s = run(from_langchain(shout).call(text="hi there"))
    assert s.ok and s.text == "HI THERE" and s.data["hits"][0]["text"] == "HI THERE"
    f = run(from_langchain(finder).call(query="x"))
    assert f.ok and f.text == "1 result for x"
    assert f.data["hits"] == [{"title": "Thing", "url": "https://x.example", "text": "a thing", "score": None}]
    b = run(from_langchain(broken).call(query="x"))
    assert not b.ok and "backend down" in b.text
    counter = from_langchain(Counter())
    assert counter.name == "count_words" and counter.parameters["required"] == ["text"]
    c = run(counter.call(text="one two three"))
    assert c.ok and c.text == "3" and c.data["raw"] == 3 and c.data["hits"] == []
    with pytest.raises(TypeError, match="BaseTool"):
        from_langchain(lambda q: q)


def test_names_and_hit_shapes():
    assert tool_name("web search!") == "web_search" and tool_name("2fast") == "t_2fast"
    with pytest.raises(ValueError):
        tool_name("!!!")
    assert as_hits('[{"title": "T", "content": "c", "url": "u"}]', "d") == [
        {"title": "T", "url": "u", "text": "c", "score": None}]
    assert as_hits("[not json", "d")[0]["text"] == "[not json"
    assert as_hits(42, "d") == [] and as_hits("   ", "d") == [] and as_hits([{"title": "no text"}], "d") == []


def test_rolegraph_tools_export_as_structured_tools():
    calc = to_langchain(Calculator())
    assert isinstance(calc, StructuredTool) and calc.name == "calculator"
    assert convert_to_openai_tool(calc) == Calculator().openai_schema()
    assert run(calc.ainvoke({"expression": "17*23"})) == "391"
    assert calc.invoke({"expression": "2^5"}) == "32"  # sync use outside an event loop
    msg = run(calc.ainvoke({"type": "tool_call", "name": "calculator", "args": {"expression": "6*7"}, "id": "c1"}))
    assert msg.content == "42" and msg.artifact == 42 and msg.status == "success"
    err = run(calc.ainvoke({"type": "tool_call", "name": "calculator", "args": {"expression": "1/0"}, "id": "c2"}))
    assert err.status == "error" and "calculator" in err.content
    # round trip: back into rolegraph, it behaves like the original
    back = from_langchain(calc)
    assert back.parameters == Calculator().parameters
    again = run(back.call(expression="17*23"))
    assert again.ok and again.text == "391" and again.data["raw"] == 391
    box = toolbox_from_langchain([lookup, Calculator()], names={"lookup": "search"})
    assert box.names == ["search", "calculator"] and isinstance(box["calculator"], Calculator)
    assert [t.name for t in toolbox_to_langchain(box)] == ["search", "calculator"]


class CapitalsTask(Task):
    """Questions whose answers are only in the gazetteer the LangChain tool searches."""

    name = "capitals"
    family = "qa"
    answer_kind = "qa"

    def all_items(self) -> list[Item]:
        capitals = list(FACTS.values())
        return [Item(id=f"cap{i}", question=f"What is the capital of {country}?", gold=capital, family="qa",
                     metadata={"distractors": [c for c in capitals if c != capital][:3]})
                for i, (country, capital) in enumerate(FACTS.items())]

    def score(self, prediction: str | None, item: Item) -> float:
        return float(prediction is not None and prediction.strip().lower() == item.gold.lower())


def test_langchain_tool_is_the_searchers_search_in_a_real_sim_run(tmp_path):
    seen: list[str] = []

    @tool
    def gazetteer(q: str) -> list:
        """Search the gazetteer of countries and capitals."""
        seen.append(q)
        return lookup.invoke({"q": q})

    @tool
    def empty(q: str) -> str:
        """A search that finds nothing."""
        return "no results"

    spec = GraphSpec.model_validate({
        "name": "search-solve",
        "nodes": [{"id": "find", "role": "searcher", "model": "sim/llama-3.2-3b"},
                  {"id": "answer", "role": "solver", "model": "sim/llama-3.2-3b"}],
        "edges": [["find", "answer"]]})
    task = CapitalsTask()
    items = task.items()

    async def score(box: ToolBox):
        hub = ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False))
        try:
            return await evaluate(spec, task, items, hub=hub, toolbox=box, progress=False, seed=3)
        finally:
            await hub.aclose()

    box = ToolBox([from_langchain(gazetteer, name="search"), Calculator()])
    one = run(run_graph(spec, items[0], ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False)),
                        toolbox=box))
    find = one.node("find")
    assert find.tools and all(e.tool == "search" and e.ok for e in find.tools)
    country = items[0].question.removeprefix("What is the capital of ").rstrip("?")
    assert find.output.startswith(f"Evidence:\n[1] {country} (https://gazetteer.example/")
    assert items[0].gold in find.output
    with_tool = run(score(box))
    assert seen and len(seen) >= len(items)  # the searcher's queries went through the LangChain tool
    found = [it for it in with_tool.items if it.error is None]
    assert len(found) == len(items) and with_tool.failures == 0
    without = run(score(ToolBox([from_langchain(empty, name="search")])))
    # evidence holding the gold answer is what a sim solver reads to get these questions right
    assert with_tool.accuracy > without.accuracy
    assert with_tool.simulated and without.simulated
