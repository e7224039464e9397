"""A dynamic MindSearch-style agent: the planner decides how many searchers run.

    python examples/mindsearch_agent.py "Who discovered penicillin and where was he born?"
    python examples/mindsearch_agent.py --web "..."     # web search; offline it falls back to the local index

The planner (SmolLM2-135M, embedded) writes sub-questions; one searcher is spawned per sub-question
(at most MAX_FANOUT), all in parallel over the offline Wikipedia index (or the web with --web, whose
fallback to the local index is printed); a solver answers from all the evidence. The run's notes say
how many sub-questions the planner wrote and how many searchers ran. The same graph on the simulated
pool is examples/graphs/mindsearch.yaml.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from rolegraph.errors import RolegraphError
from rolegraph.graphs.result import RunResult
from rolegraph.graphs.runtime import run_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

MODEL = "local/smollm2-135m"
MAX_FANOUT = 3
DEFAULT_QUESTION = "Who discovered penicillin and where was Alexander Fleming born?"
EXIT_USER_ERROR = 2


def mindsearch_graph(model: str = MODEL, max_fanout: int = MAX_FANOUT) -> GraphSpec:
    return GraphSpec.model_validate({
        "name": "mindsearch-dynamic",
        "nodes": [
            {"id": "plan", "role": "planner", "model": model, "params": {"max_tokens": 96, "temperature": 0.0}},
            {"id": "search", "role": "searcher", "model": model, "params": {"max_tokens": 32}},
            {"id": "answer", "role": "solver", "model": model, "params": {"max_tokens": 96, "temperature": 0.0}},
        ],
        "edges": [["plan", "search"], ["search", "answer"]],
        "fanout": [{"from": "plan", "nodes": ["search"], "max_fanout": max_fanout}],
    })


def report(result: RunResult) -> str:
    lines = [f"notes: {note}" for note in result.notes]
    for copy in result.runs("search"):
        queries = "; ".join(str(t.arguments.get("query", "")) for t in copy.tools)
        lines.append(f"{copy.id}: searched {queries!r}")
        lines += [f"  note: {t.note}" for t in copy.tools if t.note]
    lines.append(f"answer: {result.answer}")
    calls = sum(n.calls for n in result.nodes)
    cached = sum(n.cached_calls for n in result.nodes)
    # a rerun answered from the response cache reports each call at the latency first measured: say so
    note = f" ({cached} of {calls} model calls from the response cache, timed as first measured)" if cached else ""
    lines.append(f"{result.tokens} tokens, {result.latency_s:.1f} s{note}")
    return "\n".join(lines)


async def ask(question, hub: ModelHub, toolbox, model: str = MODEL) -> RunResult:
    return await run_graph(mindsearch_graph(model), question, hub, toolbox=toolbox)


async def main(question: str, web: bool) -> None:
    from rolegraph.models.local import engine_status
    from rolegraph.tools.toolbox import default_toolbox

    ok, why = engine_status()
    if not ok:
        raise RolegraphError(f"the local model {MODEL} cannot run: {why}")
    settings = Settings.from_env()
    hub = ModelHub(ModelPool.load(), settings)
    try:
        result = await ask(question, hub, default_toolbox(settings, web=web))
    finally:
        await hub.aclose()
    print(f"Question: {question}\n{report(result)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="*")
    parser.add_argument("--web", action="store_true", help="search the web (local index when offline)")
    args = parser.parse_args()
    try:
        asyncio.run(main(" ".join(args.question).strip() or DEFAULT_QUESTION, args.web))
    except RolegraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
