"""`rolegraph demo` (the offline search on the simulated pool) and `rolegraph report` (re-render a run)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from rolegraph.cli.interrupt import Interrupted, SigtermAsInterrupt, demo_interrupted, router_interrupted
from rolegraph.cli.optimize_cmd import run_optimize, show_progress
from rolegraph.cli.optimize_output import print_result
from rolegraph.errors import SearchError

DEMO_TASK = "gsm"
DEMO_BUDGET = 18.0
DEMO_ITERATIONS = 8
DEMO_SAMPLES = 4
DEMO_BATCH = 24
DEMO_VALIDATION = 64
DEMO_TEST = 125
DEMO_MAX_NODES = 6


def demo_cmd(
    iterations: Annotated[int, typer.Option("--iterations", min=1, help="search iterations")] = DEMO_ITERATIONS,
    samples: Annotated[int, typer.Option("--samples", min=1, help="graphs per iteration (K)")] = DEMO_SAMPLES,
    batch: Annotated[int, typer.Option("--batch", min=1, help="training items per iteration")] = DEMO_BATCH,
    budget: Annotated[float, typer.Option("--budget", help="FLOPs units (one 1B node = 1)")] = DEMO_BUDGET,
    validation_items: Annotated[
        int,
        typer.Option(
            "--validation-items",
            min=1,
            help="re-check reserve per top candidate (validation items, spent in rounds on the leader and its "
            "closest rival; the reserve is pooled, so one candidate can get more than this)",
        ),
    ] = DEMO_VALIDATION,
    test_items: Annotated[int, typer.Option("--test-items", min=1, help="test items for the final score")] = DEMO_TEST,
    seed: Annotated[int, typer.Option("--seed", help="seed of the search (its sampling and batch draws)")] = 0,
    task_size: Annotated[int | None, typer.Option("--task-size", min=1, help="gsm items to generate")] = None,
    world: Annotated[
        int | None, typer.Option("--world", help="simulator world (default 0: the calibrated one)")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="run directory (default: a new one in ./runs named for the time, task and optimizer)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON summary")] = False,
) -> None:
    """Offline demo: Agent-REINFORCE on the simulated pool over gsm; best graph vs best single model."""
    from rolegraph.optimize.context import SearchConfig
    from rolegraph.sim.world import check_world

    started = time.perf_counter()
    if world is not None:
        check_world(world, "--world")  # before the banner: a bad option is the only line printed
    if task_size is not None:  # as --world: a size the task refuses is the only line printed
        from rolegraph.tasks.gym import MAX_GYM_SIZE
        from rolegraph.tasks.options import int_option

        int_option(task_size, "size", DEMO_TASK, maximum=MAX_GYM_SIZE)
    if not budget > 0:  # nan too: it compares false
        raise SearchError(f"the budget must be positive, got {budget:g}")
    if math.isinf(budget):  # an infinite budget bounds no graph
        raise SearchError("the budget must be finite, got inf")
    config = SearchConfig(  # its own checks (a negative seed, a count under 1) are refused before the banner
        iterations=iterations,
        samples=samples,
        batch=batch,
        validation_items=validation_items,
        test_items=test_items,
        seed=seed,
    )
    check_before_banner(config, budget, task_size, world, out)
    if not as_json:
        typer.echo(
            f"rolegraph demo: Agent-REINFORCE on the simulated pool (world {world or 0}) over '{DEMO_TASK}' (budget "
            f"{budget:g} FLOPs units, {iterations} iterations x {samples} graphs x {batch} items; simulated, offline)"
        )
    from rolegraph.cli.router_views import demo_router, print_router, router_summary

    with SigtermAsInterrupt() as term:  # SIGTERM saves and says so, like Ctrl-C (exit 143), as optimize does
        try:
            result = term.run(run_demo_search(config, budget, out, as_json, task_size, world))
        except Interrupted as exc:  # the search says what it kept; the demo adds the router it did not fit
            raise demo_interrupted(exc) from None
        try:
            with term.raising():
                fit = demo_router(result.run_dir) if result.run_dir else None
        except KeyboardInterrupt:
            raise router_interrupted(Path(result.run_dir)) from None
    if fit is not None:  # the report was rendered before router.yaml existed: render it again to describe it
        from rolegraph.reports import render

        render(result.run_dir)
    if as_json:
        extra = {"router": router_summary(fit)} if fit is not None else {}
        typer.echo(json.dumps(result.summary() | extra | {"seconds": round(time.perf_counter() - started, 2)}))
    else:
        print_result(result, time.perf_counter() - started)
        if fit is not None:
            print_router(fit)


def check_before_banner(config: Any, budget: float, task_size: int | None, world: int | None, out: Path | None) -> None:
    """What the search would refuse on its first steps, refused before the banner so its one line is the only
    output (as a bad --world's is): a task size too small to give every split an item, a budget no graph fits,
    and an --out that is a file, a directory holding other files, or a run already. Each with the line the
    search itself would print; building the task and the space here costs milliseconds on the simulated pool."""
    from rolegraph.cli.options import task_options
    from rolegraph.cli.space_opts import search_space
    from rolegraph.models.pool import ModelPool
    from rolegraph.optimize.objectives import Objective
    from rolegraph.optimize.run_setup import SEARCH_SPLITS
    from rolegraph.optimize.rundir import refuse_out
    from rolegraph.tasks.registry import get_task

    task = get_task(DEMO_TASK, **task_options(None, task_size))
    for split in SEARCH_SPLITS:  # as the search's `SearchContext.split` refuses an empty one
        if not any(it.gold is not None for it in task.items(split, seed=config.data_seed)):
            raise SearchError(f"task '{task.name}' has no {split} items")
    pool = ModelPool.load(None, world=world)
    search_space(pool, task.family, None, None, None, None, DEMO_MAX_NODES, budget, "flops", Objective())
    if out is not None:
        refuse_out(out.expanduser())


async def run_demo_search(
    config: Any, budget: float, out: Path | None, as_json: bool, task_size: int | None, world: int | None
) -> Any:
    """The demo's search: Agent-REINFORCE over gsm on the simulated pool, as `optimize` would run it."""
    from rolegraph.optimize.objectives import Objective

    return await run_optimize(
        task_name=DEMO_TASK,
        data=None,
        pool_file=None,
        models=None,
        roles=None,
        budget=budget,
        budget_kind="flops",
        optimizer_name="agent-reinforce",
        objective=Objective(),
        max_nodes=DEMO_MAX_NODES,
        config=config,
        agent_model=None,
        out=out,
        progress=show_progress(as_json),
        task_size=task_size,
        world=world,
    )


def report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="a run directory written by optimize or demo")],
    html: Annotated[
        bool,
        typer.Option(
            "--html", help="also write report.html: one self-contained page (figures inlined, no external resources)"
        ),
    ] = False,
) -> None:
    """Re-render a run's report.md, trace.json, best_graph.yaml and plots from its store (report.html too, if any)."""
    from rolegraph.cli.optimize_output import run_files
    from rolegraph.graphs.router_io import ROUTER_FILE
    from rolegraph.reports import render
    from rolegraph.reports.html import HTML_NAME

    had_page = (Path(run_dir) / HTML_NAME).is_file()
    path = render(run_dir)  # re-writes an existing report.html too
    others = [name for name in run_files(run_dir) if name != path.name and not (html and name == HTML_NAME)]
    kept = f"; the report describes its {ROUTER_FILE}" if (Path(run_dir) / ROUTER_FILE).is_file() else ""
    typer.echo(f"wrote {path}" + (f" (and {', '.join(others)})" if others else "") + kept)
    if html:
        from rolegraph.reports import write_html

        page = Path(run_dir) / HTML_NAME if had_page else write_html(run_dir)  # render() wrote an existing one
        typer.echo(f"wrote {page} (one self-contained page; open it in any browser)")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)
    app.command("report")(report_cmd)
