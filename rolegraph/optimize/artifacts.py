"""A run directory's data files, re-derived from its store: `best_graph.yaml` and `trace.json`.

The search writes these itself when it ends (so `rolegraph run RUN_DIR/best_graph.yaml` works after
a search from Python as well); `rolegraph.reports` renders the human-readable files beside them.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from rolegraph.fileio import write_atomic
from rolegraph.graphs.io import dumps_yaml
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.provenance import REAL, SIMULATED
from rolegraph.optimize.final import FinalChoice
from rolegraph.optimize.objectives import Objective
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.trace import (
    EvalRecord,
    FeedbackRecord,
    IterationRecord,
    ranked,
    records_served,
    records_simulation,
)


def fmt_ci(ci) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def load_run(run_dir: str | Path) -> dict:
    """Everything a report needs, from the store (raises SearchError if it is not a run)."""
    store = RunStore.open(run_dir)
    try:
        point = store.checkpoint()
        config = store.config(check_inputs=False)  # a report reads only the store, never the data or pool files
        records = [EvalRecord.model_validate(r) for r in store.records()]
        feedback = [FeedbackRecord.model_validate(f) for f in store.feedback()]
        graphs = store.graphs()
    finally:
        store.close()
    iteration, phase, state = point if point is not None else (0, "new", {"iterations": [], "final": None})
    return {
        "run_dir": Path(run_dir),
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


def best_graph(run: dict) -> GraphSpec | None:
    """The chosen graph as `best_graph.yaml` holds it: named "best", described with its test score."""
    best = chosen_graph(run)
    if best is None:
        return None
    return best.model_copy(update={"name": "best", "description": _describe_best(run)})


def run_world(run: dict) -> int | None:
    """The simulator world the run's sim models answered in; None when no sim model answered (a real pool has
    no world that matters, and saying "world 0" there would suggest one)."""
    if records_simulation(run["records"]) == REAL:
        return None
    return int(run["config"].get("world") or 0)


def sim_suffix(run: dict) -> str:
    """' (simulated, world N)', ' (partly simulated, world N)', or nothing for real results."""
    world = run_world(run)
    return "" if world is None else f" ({records_simulation(run['records'])}, world {world})"


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


def best_graph_header(run: dict) -> str:
    """The comment on top of best_graph.yaml: where its numbers come from and the command that reproduces them
    (a graph file is often copied away from its run directory and its report)."""
    world = run_world(run)
    where = "" if world is None else f" in simulator world {world}"
    lines = [
        # no run directory path: a resumed run elsewhere must write the same file
        f"# found by the {run['config']['optimizer']['name']} search on {run['config']['task']}{where}",
        "# score it in the run's conditions (task, pool, world): "
        f"rolegraph eval best_graph.yaml {reproduce_options(run)}",
    ]
    return "\n".join(lines) + "\n"


def trace_json(run: dict) -> dict:
    return {
        "task": run["config"]["task"],
        "optimizer": run["config"]["optimizer"]["name"],
        "simulated": records_simulation(run["records"]) == SIMULATED,
        "simulation": records_simulation(run["records"]),
        "world": run_world(run),
        "provenance": _provenance(run),
        "phase": run["phase"],
        "evaluations": [r.model_dump() for r in run["records"]],
        "iterations": [r.model_dump() for r in run["iterations"]],
        "feedback": [f.model_dump() for f in run["feedback"]],
        "final": run["final"].model_dump() if run["final"] else None,
    }


def _provenance(run: dict) -> dict | None:
    """The run config's provenance (what was known at the start) with what the replies said since."""
    start = run["config"].get("provenance")
    if start is None:  # a run made before provenance was recorded
        return None
    served = records_served(run["records"])
    for model_id, seen in served.items():
        entry = start["models"].get(model_id)
        if entry is not None:
            entry.update({k: v for k, v in seen.model_dump().items() if v is not None})
    return {**start, "simulation": records_simulation(run["records"])}


def write_artifacts(run_dir: str | Path, run: dict | None = None) -> GraphSpec | None:
    """(Re)write best_graph.yaml and trace.json from the store; returns the best graph written."""
    run = run if run is not None else load_run(run_dir)
    out = Path(run_dir)
    best = best_graph(run)
    if best is not None:
        write_atomic(out / "best_graph.yaml", best_graph_header(run) + dumps_yaml(best))
    write_atomic(out / "trace.json", json.dumps(trace_json(run), indent=1))
    return best


def _describe_best(run: dict) -> str:
    cfg = run["config"]
    final = run["final"]
    score = (
        f"; test accuracy {final.test.accuracy:.3f} {fmt_ci(final.test.ci95)} on {final.test.n} items" if final else ""
    )
    return f"best graph of the {cfg['optimizer']['name']} search on {cfg['task']}{score}{sim_suffix(run)}"
