"""A search agent: planner -> searcher -> solver on the embedded local model, over offline Wikipedia.

    python examples/search_agent.py "Who discovered penicillin?"

The planner writes a plan, the searcher turns it into queries that run against the local index of
10,033 Wikipedia summaries (built under $ROLEGRAPH_HOME on the first search), and the solver answers
from that evidence. SmolLM2-135M is tiny: expect a rough answer; the point is the pipeline. A
searcher that writes no usable query searches the question itself.
"""
from __future__ import annotations

import asyncio
import sys

from rolegraph.errors import RolegraphError
from rolegraph.graphs.runtime import run_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

MODEL = "local/smollm2-135m"
DEFAULT_QUESTION = "Who discovered penicillin?"
EXIT_USER_ERROR = 2

GRAPH = GraphSpec.model_validate({
    "name": "search-agent",
    "nodes": [
        {"id": "plan", "role": "planner", "model": MODEL, "params": {"max_tokens": 160}},
        {"id": "search", "role": "searcher", "model": MODEL, "params": {"max_tokens": 64}},
        {"id": "answer", "role": "solver", "model": MODEL, "params": {"max_tokens": 192, "temperature": 0.2}},
    ],
    "edges": [["plan", "search"], ["search", "answer"]],
})


async def main(question: str) -> None:
    from rolegraph.models.local import engine_status
    from rolegraph.tools.toolbox import default_toolbox

    ok, why = engine_status()
    if not ok:
        raise RolegraphError(f"the local model {MODEL} cannot run: {why}")
    settings = Settings.from_env()
    hub = ModelHub(ModelPool.load(), settings)
    try:
        result = await run_graph(GRAPH, question, hub, toolbox=default_toolbox(settings))
    finally:
        await hub.aclose()
    plan, search = result.node("plan"), result.node("search")
    print(f"Question: {question}\n")
    print(f"--- plan ({plan.model}) ---\n{plan.output.strip()}\n")
    queries = [event.arguments.get("query", "") for event in search.tools]
    print(f"--- evidence (queries: {'; '.join(queries)}) ---")
    for event in search.tools:
        if event.note:
            print(f"note: {event.note}")
    print(f"{search.output.strip()}\n")
    print(f"--- answer ---\n{result.answer}\n")
    print(f"{result.tokens} tokens, {result.latency_s:.1f} s")


if __name__ == "__main__":
    try:
        asyncio.run(main(" ".join(sys.argv[1:]).strip() or DEFAULT_QUESTION))
    except RolegraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
