"""rolegraph graphs inside a user's LangGraph app: inputs, the SQLite checkpointer, streaming, LangSmith.

`compile_graph` already returns a real LangGraph `Pregel` (a functional-API `entrypoint`): it can be
invoked or streamed on its own, or added as a node of the user's `StateGraph` (its input keys are
read from the parent state, its output keys written back). This module adds what such an app needs
around it: loading a graph file found by `optimize`, building the input of one question, opening
LangGraph's SQLite checkpointer, reading `stream_mode="updates"` node by node, and the LangSmith
settings that LangGraph picks up from the environment (nothing here talks to LangSmith itself).
Gold answers stay out of all of it: the input state holds the question only, and the answer key that
simulated models need rides in the run's context (`graph_context`), which LangGraph never stores.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from rolegraph.agents.registry import RoleRegistry
from rolegraph.chat.spec import public_url
from rolegraph.errors import EngineMissingError
from rolegraph.graphs.budget import Budget
from rolegraph.graphs.inputs import FREE_FORM_KIND, question_text
from rolegraph.graphs.nodes import RunContext
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.tools.toolbox import ToolBox  # already loaded by then (runtime): in the hints that resolve at run time

SQLITE_SAVER_PACKAGE = "langgraph-checkpoint-sqlite"
TRUE_VALUES = frozenset({"1", "true", "yes", "on"})
TRACING_ENV = ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2")
API_KEY_ENV = ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")
PROJECT_ENV = ("LANGSMITH_PROJECT", "LANGCHAIN_PROJECT")
ENDPOINT_ENV = ("LANGSMITH_ENDPOINT", "LANGCHAIN_ENDPOINT")
DEFAULT_PROJECT = "default"
DEFAULT_ENDPOINT = "https://api.smith.langchain.com"
RUN_TAG = "rolegraph"


def load_app(
    graph: GraphSpec | str | Path,
    hub: ModelHub,
    *,
    toolbox: ToolBox | None = None,
    roles: RoleRegistry | None = None,
    checkpointer: BaseCheckpointSaver | None = None,
) -> CompiledGraph:
    """A graph (a spec, or a file such as a run's best_graph.yaml) compiled against `hub`.

    The result's `.pregel` is the LangGraph object; `.spec` and `.plans` describe its nodes.
    """
    if not isinstance(graph, GraphSpec):
        from rolegraph.graphs.io import load_graph

        graph = load_graph(graph)
    return CompiledGraph(graph, hub, toolbox=toolbox, roles=roles, checkpointer=checkpointer)


def graph_input(question: Item | str, *, seed: int = 0, answer_kind: str | None = None) -> dict[str, Any]:
    """The input state of the compiled graph for an item or a free-form question: question, seed, answer kind.

    Never the item's gold answer: state is what checkpointers store and LangSmith uploads. Simulated
    models read the answer key from the run's context instead (`graph_context`)."""
    if isinstance(question, Item):
        return {"question": question_text(question), "seed": seed, "answer_kind": answer_kind or question.family}
    return {"question": str(question), "seed": seed, "answer_kind": answer_kind or FREE_FORM_KIND}


def graph_context(
    graph: CompiledGraph,
    question: Item | str,
    *,
    seed: int = 0,
    answer_kind: str | None = None,
    budget: Budget | None = None,
) -> RunContext:
    """The run context for one question: pass it as `context=` to `ainvoke`/`astream` (a parent graph hands it
    down to a nested rolegraph graph). It carries the item's answer key, which only simulated models read,
    and LangGraph never serialises it. Make a fresh one per question: it also collects the run's traces. The nodes
    read the question, seed and answer kind from here, so a run whose input state says otherwise (not
    `graph_input` of the same item, seed and kind) is refused with one GraphError before any call."""
    _, ctx, _ = graph.inputs_and_context(question, budget=budget, seed=seed, answer_kind=answer_kind)
    return ctx


@asynccontextmanager
async def sqlite_checkpointer(path: str | Path) -> AsyncIterator[Any]:
    """LangGraph's `AsyncSqliteSaver` on a file (its folder is created), closed on exit.

    The compiled graph is async, so it takes the async saver; a thread's checkpoints survive restarts.
    """
    try:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    except ImportError:
        raise EngineMissingError(
            f"the SQLite checkpointer needs the '{SQLITE_SAVER_PACKAGE}' package: pip install {SQLITE_SAVER_PACKAGE}"
        ) from None
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        yield saver


def node_names(graph: CompiledGraph) -> dict[str, str]:
    """LangGraph task name -> rolegraph node id (ids that are not safe task names run as `node<i>`)."""
    return graph.task_names()


async def node_updates(
    app: Any,
    inputs: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
    *,
    names: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> AsyncIterator[tuple[str, Any]]:
    """`app.astream(..., stream_mode="updates")` as (name, update) pairs, one per finished node.

    With `subgraphs=True` (a rolegraph graph nested in a user's StateGraph) the nested nodes' updates
    come through too. `names` (from `node_names`) maps task names back to node ids.
    """
    names = names or {}
    async for chunk in app.astream(dict(inputs), dict(config or {}), stream_mode="updates", **kwargs):
        update = chunk[1] if isinstance(chunk, tuple) else chunk
        for name, value in update.items():
            yield names.get(name, name), value


@dataclass(frozen=True)
class LangSmithStatus:
    """What the environment tells LangGraph about LangSmith tracing (never the key itself)."""

    enabled: bool
    project: str
    endpoint: str = field(repr=False)  # as set, so it may hold credentials: `describe` shows it via `public_url`
    api_key_env: str | None  # the name of the variable holding the key, when one is set

    def describe(self) -> str:
        if not self.enabled:
            return "LangSmith tracing off (set LANGSMITH_TRACING=true and LANGSMITH_API_KEY to turn it on)"
        key = f"key from ${self.api_key_env}" if self.api_key_env else "NO API KEY SET (runs will not upload)"
        # the endpoint as `public_url` shows it: a proxy URL may carry credentials or a key in its query
        at = public_url(self.endpoint) or "an unparsable endpoint"
        return f"LangSmith tracing on: project '{self.project}' at {at}, {key}"


def _first_env(env: Mapping[str, str], names: tuple[str, ...]) -> tuple[str | None, str | None]:
    for name in names:
        value = env.get(name)
        if value:
            return name, value
    return None, None


def langsmith_status(env: Mapping[str, str] | None = None) -> LangSmithStatus:
    """Read LangSmith's variables (LANGSMITH_* or the older LANGCHAIN_* names) without any network call."""
    env = os.environ if env is None else env
    _, tracing = _first_env(env, TRACING_ENV)
    key_env, _ = _first_env(env, API_KEY_ENV)
    _, project = _first_env(env, PROJECT_ENV)
    _, endpoint = _first_env(env, ENDPOINT_ENV)
    return LangSmithStatus(
        enabled=(tracing or "").strip().lower() in TRUE_VALUES,
        project=project or DEFAULT_PROJECT,
        endpoint=(endpoint or DEFAULT_ENDPOINT).rstrip("/"),
        api_key_env=key_env,
    )


def run_config(
    *,
    thread_id: str | None = None,
    run_name: str | None = None,
    graph: GraphSpec | None = None,
    tags: list[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A LangGraph `RunnableConfig`: the checkpointer's thread, and the name, tags and metadata a
    LangSmith trace is filed under (graph name, node count, models) when tracing is on."""
    meta: dict[str, Any] = dict(metadata or {})
    if graph is not None:
        meta.setdefault("rolegraph_graph", graph.name)
        meta.setdefault("rolegraph_nodes", len(graph.nodes))
        meta.setdefault("rolegraph_models", sorted({n.model for n in graph.nodes}))
    config: dict[str, Any] = {"tags": [RUN_TAG, *(tags or [])], "metadata": meta}
    name = run_name or (graph.name if graph is not None else None)
    if name:
        config["run_name"] = name
    if thread_id is not None:
        config["configurable"] = {"thread_id": thread_id}
    return config


__all__ = [
    "LangSmithStatus",
    "graph_context",
    "graph_input",
    "langsmith_status",
    "load_app",
    "node_names",
    "node_updates",
    "run_config",
    "sqlite_checkpointer",
]
