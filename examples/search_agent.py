"""A search agent on the embedded local model over offline Wikipedia: search, read, answer with a span.

    python examples/search_agent.py "Who discovered penicillin?"
    python examples/search_agent.py --eval examples/data/factoid_wiki.jsonl --split heldout

SmolLM2-135M (135M parameters) cannot digest six long passages: given them, it answered "Who
discovered penicillin?" with "The answer is: 1". So the graph is one extractive reader node
(rolegraph/agents/reader.py): it searches the question itself in the local index of 10,033
Wikipedia summaries (three best-ranked passages), keeps the two sentences sharing the most words
with the question, shows the model only the best one of them (more text is more noise at 135M), and
keeps the model's answer when it is a candidate or a span of the two sentences (else the best-placed
candidate span of the question's type). `--eval` measures
accuracy and latency on a JSONL file of {id, question, answer, split}; the questions tagged `tune`
were used to build the reader, report on `heldout` (BENCHMARKS-style numbers: see the README).
Latency is measured per run; a rerun answered from the response cache says so, and reports each call at the
latency measured when it was first made (`RunResult.latency_s`), not the milliseconds the cache took: `--eval`'s
`mean_s` is the same on a rerun, and its `cached_calls` says how many calls came from the cache.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from pathlib import Path

from rolegraph.agents.registry import RoleRegistry
from rolegraph.errors import RolegraphError
from rolegraph.graphs.result import RunResult
from rolegraph.graphs.runtime import GraphRunner
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

MODEL = "local/smollm2-135m"
DEFAULT_QUESTIONS = ("Who discovered penicillin?", "Who painted the Mona Lisa?", "In which year did the Titanic sink?")
EXIT_USER_ERROR = 2
READER_PROMPT = "Role: reader.\nAnswer the question from the passages, with a short span copied from them."

GRAPH = GraphSpec.model_validate({
    "name": "search-agent",
    "nodes": [{"id": "answer", "role": "reader", "model": MODEL, "params": {"max_tokens": 16, "temperature": 0.0}}],
})


def roles() -> RoleRegistry:
    registry = RoleRegistry.default()
    registry.register("reader", READER_PROMPT, mode="read", answers=True, max_tokens=16, temperature=0.0)
    return registry


def correct(answer: str | None, gold: str) -> bool:
    """Every word of the gold in the answer ("Jonas Edward Salk" for "Jonas Salk"), or the answer a
    part of the gold of more than three letters ("Beethoven" for "Ludwig van Beethoven"); lower-cased,
    punctuation dropped."""
    def norm(t: str) -> str:
        return " ".join(re.sub(r"[^\w\s]", " ", t.lower()).split())
    a, g = norm(answer or ""), norm(gold)
    return bool(a) and (set(g.split()) <= set(a.split()) or (a in g and len(a) > 3))


def latency_line(result: RunResult) -> str:
    calls = sum(n.calls for n in result.nodes)
    cached = sum(n.cached_calls for n in result.nodes)
    if calls and cached == calls:
        return f"{result.latency_s:.2f} s (all {calls} model call(s) answered from the response cache)"
    note = f", {cached} of {calls} calls from the cache" if cached else ""
    return f"{result.latency_s:.2f} s measured{note}"


def runner(settings: Settings) -> GraphRunner:
    from rolegraph.models.local import engine_status
    from rolegraph.tools.toolbox import default_toolbox

    ok, why = engine_status()
    if not ok:
        raise RolegraphError(f"the local model {MODEL} cannot run: {why}")
    return GraphRunner(ModelHub(ModelPool.load(), settings), toolbox=default_toolbox(settings), roles=roles())


async def ask(questions: list[str], settings: Settings) -> list[RunResult]:
    run = runner(settings)
    results = []
    try:
        for question in questions:
            result = await run.run(GRAPH, question)
            node = result.node("answer")
            print(f"Q: {question}\nA: {result.answer}   [{node.output.splitlines()[-2]}; {latency_line(result)}]")
            for event in node.tools:
                print(f"   searched {event.arguments.get('query')!r}" + (f" ({event.note})" if event.note else ""))
            results.append(result)
    finally:
        await run.hub.aclose()
    return results


def read_rows(path: Path, split: str | None) -> list[dict]:
    """The JSONL rows of `split` (all when None); a missing file, a bad line or an empty split is one line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RolegraphError(f"{path}: cannot read ({exc})") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RolegraphError(f"{path}:{number}: not JSON ({exc.msg})") from None
        missing = [k for k in ("id", "question", "answer") if not isinstance(row, dict) or k not in row]
        if missing:
            raise RolegraphError(f"{path}:{number}: missing {', '.join(missing)} (rows are {{id, question, answer, split}})")
        rows.append(row)
    chosen = [r for r in rows if split is None or r.get("split") == split]
    if not chosen:
        splits = sorted({str(r.get("split")) for r in rows})
        raise RolegraphError(f"{path}: no rows" + (f" of split '{split}' (splits: {', '.join(splits)})" if rows else ""))
    return chosen


async def evaluate(path: Path, split: str | None, settings: Settings) -> dict[str, float]:
    """Accuracy and mean seconds per question. The seconds are each run's `latency_s`: a call answered from the
    response cache counts at the latency first measured (the wall time of a rerun, milliseconds, said nothing
    of the model); `calls`/`cached_calls` say how many calls there were and how many the cache answered."""
    rows = read_rows(path, split)
    run = runner(settings)
    right, seconds, calls, cached = 0, [], 0, 0
    try:
        for r in rows:
            result = await run.run(GRAPH, r["question"])
            seconds.append(result.latency_s)
            calls += sum(n.calls for n in result.nodes)
            cached += sum(n.cached_calls for n in result.nodes)
            ok = correct(result.answer, r["answer"])
            right += ok
            fields = result.node("answer")
            source = fields.output.splitlines()[-2] if fields.output.count("\n") else ""
            print(f"{'+' if ok else '-'} {r['id']} {r['question']} -> {result.answer!r} (gold {r['answer']!r}; {source})")
    finally:
        await run.hub.aclose()
    summary = {"n": len(rows), "accuracy": right / max(1, len(rows)), "mean_s": sum(seconds) / max(1, len(seconds)),
               "calls": calls, "cached_calls": cached}
    if cached:
        print(f"note: {cached} of {calls} model calls answered from the response cache; mean_s counts them at the "
              "latency measured when each was first made (--no-cache measures afresh)")
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="*")
    parser.add_argument("--eval", type=Path, help="JSONL of {id, question, answer, split}")
    parser.add_argument("--split", help="only rows of this split (tune / heldout)")
    parser.add_argument("--no-cache", action="store_true", help="call the model even for a repeated question")
    args = parser.parse_args()
    conf = Settings.from_env(cache=not args.no_cache)
    try:
        if args.eval:
            asyncio.run(evaluate(args.eval, args.split, conf))
        else:
            asyncio.run(ask([" ".join(args.question)] if args.question else list(DEFAULT_QUESTIONS), conf))
    except RolegraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
