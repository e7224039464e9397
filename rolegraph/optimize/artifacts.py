"""A run directory's data files, re-derived from its store: `best_graph.yaml` and `trace.json`.

The search writes these itself when it ends (so `rolegraph run RUN_DIR/best_graph.yaml` works after
a search from Python as well); `rolegraph.reports` renders the human-readable files beside them. Reading a
run lives in `rolegraph.optimize.run_reader`.
"""

from __future__ import annotations

import json
from pathlib import Path

from rolegraph.fileio import write_atomic
from rolegraph.graphs.io import dumps_yaml
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.provenance import SIMULATED
from rolegraph.optimize.run_reader import chosen_graph, fmt_ci, load_run, reproduce_options, run_world, sim_suffix
from rolegraph.optimize.trace import records_served, run_simulation


def best_graph(run: dict) -> GraphSpec | None:
    """The chosen graph as `best_graph.yaml` holds it: named "best", described with its test score."""
    best = chosen_graph(run)
    if best is None:
        return None
    return best.model_copy(update={"name": "best", "description": _describe_best(run)})


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
        "simulated": run_simulation(run) == SIMULATED,
        "simulation": run_simulation(run),
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
    return {**start, "simulation": run_simulation(run)}


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
