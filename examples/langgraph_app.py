"""A graph found by `rolegraph optimize`, dropped into your own LangGraph app.

    python examples/langgraph_app.py                 # finds a graph first (a small offline sim search)
    python examples/langgraph_app.py runs/<run-dir>  # or use a run's best graph, on the run's task and pool
    python examples/langgraph_app.py best_graph.yaml --db app.sqlite --thread alice
    python examples/langgraph_app.py my_graph.yaml --pool pool.yaml --question "Who discovered insulin?"

The app is an ordinary LangGraph `StateGraph` of yours: `intake` -> `agents` -> `reply`, where
`agents` is the optimized rolegraph graph (a compiled LangGraph `entrypoint`) used as a subgraph.
It runs under LangGraph's SQLite checkpointer (`pip install langgraph-checkpoint-sqlite`) and
streams with `stream_mode="updates"`, so each rolegraph node is printed as soon as it finishes.
Run it twice with the same --db and --thread: the second run first shows the stored conversation.
With LANGSMITH_TRACING=true and LANGSMITH_API_KEY set, LangSmith traces every node.

A run directory brings its own conditions: its best graph, the pool file and simulator world the search
ran with (`rolegraph optimize --pool`) and its task, whose test questions the app asks. A graph file runs
on the built-in pool, or on `--pool FILE` (or $ROLEGRAPH_POOL), with questions from `--task` (gsm unless
given). The built-in pool is simulated (offline stand-ins for LLaMA models): its answers show the plumbing
working, they are not claims about real models. Simulated models answer task items only, with their answer
keys in the run's context (never in the app's state, so never in its checkpoints or LangSmith traces); with
real models, ask any question with `--question TEXT` (repeatable).
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any, NamedTuple, TypedDict

from langgraph.graph import END, START, StateGraph

from rolegraph.graphs.interop import (graph_context, graph_input, langsmith_status, load_app, node_names, node_updates,
                                      run_config, sqlite_checkpointer)
from rolegraph.errors import RolegraphError
from rolegraph.evaluate.aggregate import spec_node_of
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tasks.base import Task
from rolegraph.tasks.registry import get_task

TASK = "gsm"
BEST_GRAPH = "best_graph.yaml"
PREVIEW_CHARS = 70
EXIT_USER_ERROR = 2


class AppState(TypedDict, total=False):
    """The user's state. The rolegraph subgraph reads the first three keys and writes the next three.
    No gold answer in it: state is what the checkpointer stores and LangSmith uploads."""

    question: str
    seed: int
    answer_kind: str
    answer: str
    output_node: str
    nodes: dict
    reply: str


def find_graph(out: Path) -> Path:
    """A small offline search on the sim pool (about half a minute), for when no graph is given."""
    from rolegraph.optimize.api import optimize
    from rolegraph.optimize.context import SearchConfig
    from rolegraph.optimize.space import SearchSpace

    pool = ModelPool.builtin()
    task = get_task(TASK)
    space = SearchSpace(pool=pool, models=tuple(m for m in pool.ids if m.startswith("sim/llama")), max_nodes=4,
                        budget=18.0, family=task.family)
    config = SearchConfig(iterations=2, samples=3, batch=8, validation_items=8, test_items=8)
    print(f"searching for a graph on '{TASK}' (simulated pool) into {out} ...")
    result = optimize(task, space, config=config, out=out)
    print(f"found {result.best_graph.name}: {len(result.best_graph.nodes)} node(s), test accuracy "
          f"{result.test.accuracy:.2f} on {result.test.n} items (simulated)")
    return out


class Conditions(NamedTuple):
    """What the app runs the graph with: the graph file, the hub on its pool, the task its questions come from,
    and the roles and tools a run directory's search used (None: the built-ins)."""

    graph: Path
    hub: ModelHub
    task: Task
    roles: Any = None
    toolbox: Any = None


def conditions(path: Path, settings: Settings, pool: Path | None, task: str | None, data: Path | None) -> Conditions:
    """A run directory's own conditions (as `rolegraph eval --add-to` rebuilds them: pool file, world, task,
    roles), or a graph file's on `pool` (None: the built-ins and $ROLEGRAPH_POOL). A run directory with --pool or
    --task is refused: the graph was chosen in the run's conditions, and other ones would not be that graph's."""
    if path.is_dir() and not (path / "run.sqlite").is_file() and (path / BEST_GRAPH).is_file():
        path = path / BEST_GRAPH  # a best graph kept without its search: a graph file, on the given pool and task
    if path.is_dir():
        if pool is not None or task is not None or data is not None:
            raise RolegraphError(f"{path} is a run directory: it brings its own pool and task "
                                 "(drop --pool, --task and --data)")
        from rolegraph.optimize.rebuild import default_toolbox, rebuild

        _, run_task, space, hub, _, _ = rebuild(path, settings)
        return Conditions(path / BEST_GRAPH, hub, run_task, space.registry, default_toolbox(settings, run_task))
    questions = get_task(task or TASK, data=data)
    return Conditions(path, ModelHub(ModelPool.load(pool), settings), questions)


def output_run(state: AppState) -> dict:
    """The output node's entry in the state. The state's nodes are keyed by what ran (`verify@2` for round 2 of a
    loop node), the output by its graph node (`verify`): a node inside a loop answers with its last round, as
    `RunResult.node()` reads it. Rounds are stored in the order they ran."""
    output = state["output_node"]
    runs = [node for key, node in state["nodes"].items() if spec_node_of(key, [output]) == output]
    return runs[-1]


def build_app(agents: Any, checkpointer: Any):
    """Your app: any LangGraph graph; the rolegraph graph is one node of it."""

    def intake(state: AppState) -> dict:
        return {"question": " ".join(state["question"].split())}

    def reply(state: AppState) -> dict:
        by = output_run(state)["role"]
        return {"reply": f"Answer: {state['answer']} (from the {by} at the end of the graph)"}

    builder = StateGraph(AppState)
    builder.add_node("intake", intake)
    builder.add_node("agents", agents)
    builder.add_node("reply", reply)
    builder.add_edge(START, "intake")
    builder.add_edge("intake", "agents")
    builder.add_edge("agents", "reply")
    builder.add_edge("reply", END)
    return builder.compile(checkpointer=checkpointer)


def show(name: str, update: Any, graph) -> str:
    """One streamed update as a line: rolegraph nodes indented under the app's own nodes.

    A node's line names what ran (`verify@2` for a loop's round 2, `search[1]` for a fan-out's first copy). A loop
    or fan-out group is a task of its own (`loop_solve`, `fanout_plan`) whose update holds its nodes' runs, not an
    answer: its line lists them. The rolegraph graph's own update (its entrypoint's) carries the graph's answer."""
    if name in graph.plans:
        plan = graph.plans[name]
        text = " ".join(str(update.get("output", "")).split())[:PREVIEW_CHARS]
        answer = f"  -> {update['answer']}" if update.get("answer") is not None else ""
        return f"  [{update.get('id', name)}] {plan.role.name} on {plan.spec.id}: {text}...{answer}"
    if name == "agents":
        return f"[agents] graph answer {update['answer']} (output node {update['output_node']})"
    if name in ("intake", "reply"):
        return f"[{name}] " + (update["reply"] if "reply" in update else "question taken")
    if "output_node" in update:
        return f"  (graph output {update.get('answer')})"
    runs = [run for value in update.values() for run in (value if isinstance(value, list) else [value])]
    return f"  (group {name} done: {', '.join(str(run.get('id')) for run in runs if isinstance(run, dict))})"


def asked_items(graph, task: Task, questions: int, asked: list[str]) -> list[Item | str]:
    """Your own questions (real models only: a simulated one answers task items only), else the task's."""
    if asked:
        sim = sorted({p.spec.id for p in graph.plans.values() if p.spec.simulated})
        if sim:
            raise RolegraphError(f"--question needs real models: {', '.join(sim)} {'is' if len(sim) == 1 else 'are'} "
                                 "simulated, answering task items only (give the graph real models, e.g. with "
                                 "--pool, or drop --question)")
        return list(asked)
    return list(task.items("test", questions, seed=0))


async def main(path: Path, db: Path, thread: str, questions: int, asked: list[str], pool: Path | None = None,
               task: str | None = None, data: Path | None = None) -> None:
    settings = Settings.from_env()
    run = conditions(path, settings, pool, task, data)
    hub = run.hub
    try:
        async with sqlite_checkpointer(db) as saver:
            # the subgraph inherits the app's checkpointer
            graph = load_app(run.graph, hub, roles=run.roles, toolbox=run.toolbox)
            items = asked_items(graph, run.task, questions, asked)
            app = build_app(graph.pregel, saver)
            config = run_config(thread_id=thread, graph=graph.spec)
            before = await app.aget_state(config)
            if before.values:
                print(f"thread '{thread}' from {db}: last reply was {before.values.get('reply')!r}")
            names = node_names(graph)
            print(langsmith_status().describe())
            if not asked:
                print(f"questions from task '{run.task.name}'")
            for item in items:
                text = item.question if isinstance(item, Item) else item
                gold = f"  (gold {item.gold})" if isinstance(item, Item) else ""
                print(f"\nQ: {text.splitlines()[0][:100]}{gold}")
                # the answer key (which only sim models read) rides in the run's context, never in the state
                context = graph_context(graph, item)
                async for name, update in node_updates(app, graph_input(item), config, names=names, subgraphs=True,
                                                       context=context):
                    print(show(name, update, graph))
            after = await app.aget_state(config)
            history = [s async for s in app.aget_state_history(config)]
            print(f"\ncheckpoints of thread '{thread}' in {db}: {len(history)}"
                  f"; last reply {after.values['reply']!r}" + (" (simulated)" if graph.simulated else ""))
    finally:
        await hub.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("graph", nargs="?", type=Path, help="a run directory or a graph file (default: search now)")
    parser.add_argument("--db", type=Path, help="the SQLite checkpoint file (default: a temporary one)")
    parser.add_argument("--thread", default="demo", help="the conversation thread id")
    parser.add_argument("--questions", type=int, default=2, help="how many of the task's test questions to ask")
    parser.add_argument("--question", action="append", default=[], metavar="TEXT",
                        help="ask this question instead (real models only; repeatable)")
    parser.add_argument("--pool", type=Path, help="a pool file for a graph file (a run directory brings its own)")
    parser.add_argument("--task", help=f"the task of a graph file's questions (default {TASK})")
    parser.add_argument("--data", type=Path, help="the --task's data file, for a task that reads one")
    args = parser.parse_args()
    if args.questions < 1:  # before the search: with no question there is no reply to show
        print(f"error: --questions must be at least 1, got {args.questions}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    with tempfile.TemporaryDirectory(prefix="rolegraph-app-") as tmp:  # the search's run and checkpoints unless
        scratch = Path(tmp)  # --db names a file to keep: removed on exit
        try:
            path = args.graph if args.graph is not None else find_graph(scratch / "run")
            asyncio.run(main(path, args.db or scratch / "checkpoints.sqlite", args.thread, args.questions,
                             args.question, args.pool, args.task, args.data))
        except RolegraphError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(EXIT_USER_ERROR)
