"""What reports read of a run directory: its store's state as one dict (`load_run`), the graph it chose, and the
conditions (task, pool, simulator world) that reproduce its numbers.

Kept apart from writing the run's data files (`rolegraph.optimize.artifacts`): the reports, `rolegraph
report` and rebuilding a run only read, and reading must never write into a run directory.
"""

from __future__ import annotations

import inspect
import shlex
from dataclasses import fields
from pathlib import Path
from typing import Any

from rolegraph import __version__
from rolegraph.errors import SearchError, one_line
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.provenance import REAL
from rolegraph.optimize.context import SearchConfig
from rolegraph.optimize.final import FinalChoice
from rolegraph.optimize.objectives import Objective
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.trace import EvalRecord, FeedbackRecord, IterationRecord, ranked, run_simulation

NO_CHECKPOINT = "new"
"""The phase of a run stopped before its first checkpoint: `--resume` has nothing to go on from and starts it
again (the reports say so, `rolegraph.reports.wording.restart_text`)."""


REPORT_KEYS: dict[str, tuple[str, ...] | None] = {
    "task": None,
    "optimizer": ("name",),
    "space": ("models", "roles", "max_nodes", "budget", "budget_kind", "objective", "family"),
    "search": ("iterations", "samples", "batch", "seed", "max_evaluations"),
}
"""What a run's stored config must hold for its reports and data files to be written: a key with None is a plain
value, one with a tuple is an object holding those keys (every run's config has had them: `run_setup.run_config`)."""
REBUILD_KEYS: dict[str, tuple[str, ...] | None] = {**REPORT_KEYS, "task_args": ("name",)}
"""What rebuilding the run's search needs on top (`rebuild`: resume, `eval --add-to`, `route fit`'s pairing)."""


def stored_config(
    store: RunStore, keys: dict[str, tuple[str, ...] | None] = REPORT_KEYS, *, check_inputs: bool = True
) -> dict[str, Any]:
    """`store.config()` with `keys` checked: a config that is valid JSON but lacks what its readers index is the
    store's one-line "is damaged: its config is missing <key>" error, not a KeyError from deep inside a resume,
    a report or a fit. `load_run` (every report), `rebuild` (resume, `eval --add-to`, pairing) and `route_inputs`
    read the config through here. A `search` key this rolegraph does not know is refused too (`_unknown_search`)."""
    config = store.config(check_inputs=check_inputs)
    for key, inner in keys.items():
        if key not in config:
            raise store._damaged(f"its config is missing {key}")
        if inner is None:
            continue
        if not isinstance(config[key], dict):
            raise store._damaged(f"its config's {key} is not an object")
        for name in inner:
            if name not in config[key]:
                raise store._damaged(f"its config is missing {key}.{name}")
    if "search" in keys:
        known = {f.name for f in fields(SearchConfig)}
        _unknown_settings(store, config, [f"search.{k}" for k in config["search"] if k not in known])
    if "optimizer" in keys:
        takes = optimizer_options(str(config["optimizer"]["name"]))
        extra = [k for k in config["optimizer"] if k != "name" and takes is not None and k not in takes]
        _unknown_settings(store, config, [f"optimizer.{k}" for k in extra])
    return config


def optimizer_options(name: str) -> set[str] | None:
    """The options the optimizer `name` takes (its constructor's keywords), None when it takes any or is unknown
    (`make_optimizer` names an unknown one in its own words)."""
    from rolegraph.optimize.methods import OPTIMIZERS, make_optimizer

    if name not in OPTIMIZERS:
        return None
    params = inspect.signature(type(make_optimizer(name)).__init__).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params} | {"agent"}  # `agent`: the stored feedback agent's name, rebuilt apart


def _unknown_settings(store: RunStore, config: dict[str, Any], unknown: list[str]) -> None:
    """Refuse a `search` or `optimizer` setting this rolegraph has no field for, naming it and the rolegraph that
    wrote the run. Rebuilding passed it on as a keyword (a TypeError traceback in resume, `eval --add-to`, `route
    fit`), and a report would describe a search without the setting that shaped it: a newer rolegraph's knob, or
    damage."""
    if not unknown:
        return
    names = ", ".join(sorted(unknown))
    provenance = config.get("provenance")
    writer = provenance.get("rolegraph_version") if isinstance(provenance, dict) else None
    if isinstance(writer, str) and writer and writer != __version__:
        writer = one_line(writer, 40)  # a damaged value could hold line breaks
        raise SearchError(
            f"{store.path}: its config has an unknown setting {names}: the run was written by rolegraph {writer} "
            f"and this is {__version__}; open it with that version, or start a new search"
        )
    raise store._damaged(
        f"its config has an unknown setting {names} (rolegraph {__version__} wrote the run and has no such setting)"
    )


def fmt_ci(ci) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def load_run(run_dir: str | Path) -> dict:
    """Everything a report needs, from the store (raises SearchError if it is not a run)."""
    store = RunStore.open(run_dir)
    try:
        point = store.checkpoint()
        config = stored_config(store, check_inputs=False)  # a report reads only the store, never data or pool files
        records = [EvalRecord.model_validate(r) for r in store.records()]
        feedback = [FeedbackRecord.model_validate(f) for f in store.feedback()]
        graphs = store.graphs()
    finally:
        store.close()
    iteration, phase, state = point if point is not None else (0, NO_CHECKPOINT, {"iterations": [], "final": None})
    return {
        "run_dir": Path(run_dir),
        "checkpointed": point is not None,
        "config": config,
        "iteration": iteration,
        "phase": phase,
        "state": state,
        "records": records,
        "feedback": feedback,
        "graphs": graphs,
        "iterations": [IterationRecord.model_validate(r) for r in state.get("iterations", [])],
        "final": FinalChoice.model_validate(state["final"]) if state.get("final") else None,
    }


def chosen_graph(run: dict) -> GraphSpec | None:
    """The final choice, or the best graph so far of an unfinished run."""
    final: FinalChoice | None = run["final"]
    if final is not None:
        return GraphSpec.model_validate(run["graphs"][final.chosen_hash])
    objective = Objective.model_validate(run["config"]["space"]["objective"])
    order = ranked(run["records"], objective)
    return GraphSpec.model_validate(run["graphs"][order[0][0]]) if order else None


def run_world(run: dict) -> int | None:
    """The simulator world the run's sim models answered in; None when no sim model answered (a real pool has
    no world that matters, and saying "world 0" there would suggest one)."""
    if run_simulation(run) == REAL:
        return None
    return int(run["config"].get("world") or 0)


def sim_suffix(run: dict) -> str:
    """' (simulated, world N)', ' (partly simulated, world N)', or nothing for real results."""
    world = run_world(run)
    return "" if world is None else f" ({run_simulation(run)}, world {world})"


def reproduce_options(run: dict) -> str:
    """The options of `rolegraph run/eval best_graph.yaml ...` that put a graph in the run's conditions: its
    task (data file, generated size), its pool file and its simulator world. Without `--world N` the sim models
    answer in world 0, a different landscape, and the scores silently differ from the report's."""
    cfg = run["config"]
    task_args = cfg.get("task_args") or {}
    opts = ["--task", str(cfg["task"])]
    if task_args.get("data"):
        opts += ["--data", str(task_args["data"])]
    if task_args.get("size") is not None:
        opts += ["--task-size", str(task_args["size"])]
    if cfg.get("pool"):
        opts += ["--pool", str(cfg["pool"])]
    world = run_world(run)
    if world:  # 0 is the default world
        opts += ["--world", str(world)]
    return shlex.join(opts)
