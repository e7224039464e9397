"""What a search records about itself before it starts: the run's stored config (what `resume_async` rebuilds
from), the provenance of the models it will call, and the earlier run a warm start begins from. Kept apart
from `api` so the entry points read in one sitting."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from rolegraph import __version__
from rolegraph.errors import SearchError
from rolegraph.graphs.provenance import models_provenance, run_provenance
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.endpoint import server_windows
from rolegraph.models.hub import ModelHub
from rolegraph.models.provenance import REAL, NodeSampling, Provenance, ServedBy, Simulation, simulation_of
from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.context import SearchConfig, SearchContext
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.space_context import ContextWindowWarning, question_tokens
from rolegraph.optimize.warmstart import WarmStart
from rolegraph.tasks.base import Split, Task
from rolegraph.tools.toolbox import ToolBox

SEARCH_SPLITS: tuple[Split, ...] = ("train", "validation", "test")
"""The splits every search reads: training batches, the final re-check, the test score (`SearchContext.split`)."""


def search_provenance(
    space: SearchSpace,
    seed: int,
    agent_model: str | None,
    served: dict[str, ServedBy] | None = None,
    simulation: Simulation | None = None,
    *,
    best: GraphSpec | None = None,
    hub: ModelHub | None = None,
    toolbox: ToolBox | None = None,
) -> Provenance:
    """The search's models (and the LLM feedback agent's), with what their replies said when known; given the
    chosen graph (`best`, on the search's `hub`), its nodes' sampling parameters too, as `eval` and `run` record
    them (`run_provenance` of the compiled graph: each node's own, role defaults filled in), so a search's
    result says what its answer was sampled with. Before a graph is chosen (the stored config) there is none."""
    ids = [*space.models, *([agent_model] if agent_model else [])]
    specs = [space.pool.get(m) for m in dict.fromkeys(ids)]
    label = simulation or simulation_of(s.simulated for s in specs) or REAL
    sampling: dict[str, NodeSampling] = {}
    if best is not None and hub is not None:
        compiled = CompiledGraph(best, hub, toolbox=toolbox, roles=space.registry)
        sampling = run_provenance(compiled, seed=seed, simulation=label, served={}).sampling
    return Provenance(
        rolegraph_version=__version__,
        simulation=label,
        seed=seed,
        models=models_provenance(specs, served or {}),
        sampling=sampling,
    )


def run_config(
    task: Task,
    task_args: dict,
    space: SearchSpace,
    optimizer: Optimizer,
    config: SearchConfig,
    pool_path: str | None,
    agent_model: str | None,
    init_from: str | Path | None = None,
    task_items: str | None = None,
) -> dict[str, Any]:
    """What a run's store keeps of its search, so `resume_async` (`rebuild`) makes the same search again."""
    return {
        "task": task.name,
        "task_args": task_args,
        "task_items": task_items,  # `items_digest`: a warm start compares the items themselves too
        "pool": pool_path,
        "world": space.pool.world,
        "space": space.to_dict(),
        "role_defs": list(space.registry.definitions) if space.registry is not None else [],
        "search": config.to_dict(),
        "optimizer": {"name": optimizer.name, **optimizer.config()},
        "agent_model": agent_model,
        # what the search will call, as known before any reply (servers' model ids come with the replies:
        # trace.json and the summary's provenance)
        "provenance": search_provenance(space, config.seed, agent_model).model_dump(),
        "init_from": str(init_from) if init_from is not None else None,
    }


def warm_start_from(
    init_from: str | Path | None, optimizer: Optimizer, task_args: dict, task_items: str | None
) -> WarmStart | None:
    """The earlier run to start from (checked before anything is written)."""
    if init_from is None:
        return None
    if optimizer.finite:
        raise SearchError(
            f"{optimizer.name} enumerates every graph on one batch, so it cannot start from an earlier run: "
            "drop --init-from, or use another optimizer"
        )
    warm = WarmStart.load(init_from)
    warm.use_evidence = warm.same_task(task_args, task_items)
    return warm


def check_startable(ctx: SearchContext, optimizer: Optimizer) -> None:
    """What would stop a search on its first steps, checked before its run directory is made: refused there, a
    start left a run.sqlite that blocked `--out` ("already holds a search run") and whose `--resume` only repeated
    the same error. The splits are read (and kept) by `ctx.split`, as the search reads them; their longest question
    is what the space then allows for in each node's prompt, so a graph that cannot fit a model's context window
    with it is refused here (every graph: one line) or never proposed, rather than failing every call it makes."""
    cfg = ctx.config  # its seed and counts were checked as it was made (`SearchConfig`)
    if cfg.iterations is None and cfg.max_evaluations is None and not optimizer.finite:
        raise SearchError("give a number of iterations or an evaluation budget (max evaluations)")  # as run_search's
    for split in SEARCH_SPLITS:
        ctx.split(split)  # "task 'gsm' has no train items", and the same for validation and test
    # every graph the search builds must fit its models' context windows with the task's longest question in it
    space = ctx.space
    space.adopt_question_tokens(question_tokens(it for split in SEARCH_SPLITS for it in ctx.split(split)))
    if space.window_excluded:
        left_out = ", ".join(f"{m} ({space.pool.get(m).context_window})" for m in space.window_excluded)
        warnings.warn(
            ContextWindowWarning(
                f"left out of the search: {left_out}: one node of each needs more tokens than its context window "
                f"holds (its max_tokens, the task's longest question, ~{space.question_tokens} tokens, and its prompt)"
            ),
            stacklevel=3,
        )


async def check_before_estimate(
    task: Task, space: SearchSpace, hub: ModelHub, config: SearchConfig, opt: Optimizer
) -> None:
    """`check_startable` (and the servers' windows it checks against) as `rolegraph optimize` runs it before its
    estimate: a search the context check refuses printed its dollars first, a figure for a search that never ran.
    `optimize_async` checks again on its own context (the same items and windows: the same outcome); nothing here
    makes the run directory, so a refused search leaves none, as before."""
    await adopt_server_windows(space)
    check_startable(SearchContext(task=task, space=space, hub=hub, config=config), opt)


async def adopt_server_windows(space: SearchSpace) -> None:
    """The context window each real model of `space` without one in its pool entry runs with, as its server states
    it (`endpoint.server_windows`), learnt by the space's pool so its graphs are checked against it, on a start
    and on every resume alike (a resumed search proposing graphs the first session left out would decide
    otherwise). A server that does not say is warned about: its model's graphs are not checked against a window."""
    found = await server_windows(space.pool.get(m) for m in space.models)
    space.pool.learn_windows(found)
    unknown = [m for m, window in found.items() if window is None]
    if unknown:
        warnings.warn(
            ContextWindowWarning(
                f"no context window known for {', '.join(unknown)} (none in the pool file, and the server did not "
                "say): its graphs are not checked against one; set context_window in the pool file"
            ),
            stacklevel=2,
        )
