"""What `fit_route` reads from a run directory: its paired outcomes, its pool and task family, and, when it
has no outcomes, a refusal whose advice works from where the user is (Python or the CLI)."""

from __future__ import annotations

from pathlib import Path

from rolegraph.errors import SearchError
from rolegraph.evaluate.store import ResultsStore
from rolegraph.graphs.router import RouterSpec
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.cascade import Outcomes
from rolegraph.optimize.paired import FIT, PAIRED_SET, TEST, results_path
from rolegraph.optimize.run_reader import stored_config
from rolegraph.optimize.rundir import RunStore, resume_command


def load_outcomes(run_dir: str | Path) -> tuple[list[Outcomes], list[Outcomes | None]]:
    """(fit outcomes, test outcomes aligned to them; None where a graph has no test run) from the run's store."""
    path = results_path(run_dir)
    if not path.is_file():
        return [], []
    with ResultsStore(path) as store:
        fit_rows = store.paired(PAIRED_SET, FIT)
        test_rows = {r.graph_hash: r for r in store.paired(PAIRED_SET, TEST)}
        fit, test = [], []
        for row in fit_rows:
            spec = store.graph(row.run_id)
            if isinstance(spec, RouterSpec):  # a router added with `eval --add-to`: not a stage of another router
                continue
            res = store.load(row.run_id)
            fit.append(Outcomes(res.graph_name, row.source, spec, res))
            t = test_rows.get(row.graph_hash)
            test.append(Outcomes(res.graph_name, t.source, spec, store.load(t.run_id)) if t else None)
    return fit, test


def unpaired(run_dir: str | Path) -> list[str]:
    """Graphs (not routers) of the run's paired set on one split and not the other, by name: what an interrupted
    pairing (the search's last phase, or `eval --add-to`) leaves. A fit on the rest would drop them unsaid."""
    path = results_path(run_dir)
    if not path.is_file():
        return []
    with ResultsStore(path) as store:
        rows = {split: {r.graph_hash: r for r in store.paired(PAIRED_SET, split)} for split in (FIT, TEST)}
        fit, test = rows[FIT], rows[TEST]
        alone = [r for h, r in fit.items() if h not in test] + [r for h, r in test.items() if h not in fit]
        return [store.load(r.run_id).graph_name for r in alone if not isinstance(store.graph(r.run_id), RouterSpec)]


def incomplete_error(run_dir: str | Path, names: list[str]) -> SearchError:
    """Why a fit refuses a run whose graphs lack outcomes on a split, with the steps that complete them (the
    front's with `pair_run`, which scores only what is missing; a graph added by hand, by adding it again)."""
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return SearchError(
        f"the paired outcomes of {run_dir} are incomplete ({shown} lack fit or test outcomes: an interrupted "
        f"pairing?): score the missing ones with `await rolegraph.optimize.pair_run('{run_dir}', settings)` "
        f"(CLI: rolegraph route fit {run_dir} does it) or, for a graph added with eval --add-to, add it again"
    )


def run_meta(run_dir: str | Path) -> tuple[ModelPool, str]:
    """The run's pool and task family (what prices a cascade's stages)."""
    store = RunStore.open(run_dir)
    try:
        store.check_inputs(kinds=("pool",))  # the fit reads stored outcomes and the pool, never the data file
        cfg = stored_config(store, {"space": ()}, check_inputs=False)
    finally:
        store.close()
    return ModelPool.load(cfg.get("pool")), cfg["space"].get("family", "math")


def run_finished(run_dir: str | Path) -> bool:
    """Whether the run's search has finished (made its final choice); a path that is not a run is refused."""
    store = RunStore.open(run_dir)
    try:
        point = store.checkpoint()
    finally:
        store.close()
    return point is not None and bool(point[2].get("final"))


def no_outcomes_error(run_dir: str | Path) -> SearchError:
    """Why a run has nothing to fit a router on, with the step that gets it outcomes from Python and from the
    CLI: `fit_route` only reads the store, while `rolegraph route fit` scores the front itself first."""
    if not run_finished(run_dir):
        command = resume_command(run_dir)  # with --max-dollars HIGHER after a dollar cap's stop: else it stops again
        higher = ", max_dollars=HIGHER" if command.endswith("--max-dollars HIGHER") else ""
        return SearchError(
            f"the search in {run_dir} has not finished: continue it with "
            f"`await rolegraph.optimize.resume_async('{run_dir}', settings{higher})` (CLI: {command}), then fit the "
            "router"
        )
    return SearchError(
        f"{run_dir} has no paired outcomes (searched with route_items 0, or from before routing existed): score its "
        f"front first with `await rolegraph.optimize.pair_run('{run_dir}', settings)`, then call fit_route again "
        "(the CLI's `rolegraph route fit` does both)"
    )
