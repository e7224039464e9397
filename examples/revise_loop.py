"""A revise loop: a solver answers, a verifier checks, and a rejected answer goes back for revision.

    python examples/revise_loop.py            # on the simulated pool, five GSM-style problems

Each round the solver reads the verifier's previous review; the loop stops when the verifier accepts
or after MAX_ROUNDS rounds (validation refuses a loop without a bound). Estimates count the worst case,
the budget meter the rounds that ran. The graph file form is examples/graphs/revise.yaml.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from rolegraph.graphs.runtime import GraphRunner
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task

MAX_ROUNDS = 3
ITEMS = 5
EXIT_USER_ERROR = 2


def revise_graph(solver: str = "sim/llama-3.2-1b", verifier: str = "sim/llama-3.1-8b") -> GraphSpec:
    return GraphSpec.model_validate({
        "name": "revise",
        "nodes": [{"id": "solve", "role": "solver", "model": solver},
                  {"id": "verify", "role": "verifier", "model": verifier, "params": {"temperature": 0.0}}],
        "edges": [["solve", "verify"]],
        "loops": [{"from": "verify", "to": "solve", "max_rounds": MAX_ROUNDS, "until": "accepted"}],
    })


async def main(items: int = ITEMS) -> list[tuple[str, int, float]]:
    """(item id, rounds run, score) per item; prints one line each (simulated results)."""
    task = get_task("gsm", seed=0)
    runner = GraphRunner(ModelHub(ModelPool.builtin(), Settings.from_env()))
    rows = []
    for item in task.all_items()[:items]:
        result = await runner.run(revise_graph(), item)
        rounds = max(n.round or 1 for n in result.nodes)
        score = task.score(result.answer, item)
        rows.append((item.id, rounds, score))
        print(f"{item.id}: {rounds} round(s), answer {result.answer!r}, score {score:g} (simulated) - {result.notes[0]}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=ITEMS, help=f"how many gsm problems (default {ITEMS})")
    args = parser.parse_args()
    if args.items < 1:  # a slice would take -1 as "all but the last": 499 problems, not a mistake reported
        print(f"error: --items must be at least 1, got {args.items}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    asyncio.run(main(args.items))
