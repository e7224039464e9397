"""`rolegraph optimize`: search for the best graph of a task under a budget (or resume a search).

Heavy imports (runtime, tasks, optuna) stay inside the commands so `--help` is fast.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from rolegraph import search_defaults as defaults
from rolegraph.cli.interrupt import SigtermAsInterrupt, search_interrupted
from rolegraph.cli.optimize_checks import check_evaluation_budget, check_resume_options, print_split_notes
from rolegraph.cli.optimize_output import JSON_HELP, print_estimate, print_result
from rolegraph.cli.options import ALLOW_WEAK_SANDBOX, ALLOW_WEAK_SANDBOX_HELP, TASK_OPTION, TASK_OPTION_HELP
from rolegraph.cli.options import task_options as parse_task_options
from rolegraph.cli.space_opts import DEFAULT_BUDGET, DEFAULT_MAX_NODES
from rolegraph.errors import SearchError


def _csv(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise SearchError(f"expected a comma-separated list, got '{value}'")
    return items


def show_progress(as_json: bool) -> bool:
    return not as_json and sys.stderr.isatty()


async def run_optimize(
    *,
    task_name: str,
    data: Path | None,
    pool_file: Path | None,
    models: list[str] | None,
    roles: list[str] | None,
    budget: float | None,
    budget_kind: str | None,
    optimizer_name: str,
    objective: Any,
    max_nodes: int | None,
    config: Any,
    agent_model: str | None,
    out: Path | None,
    progress: bool,
    task_size: int | None = None,
    task_option: list[str] | None = None,
    executor: Any = None,
    world: int | None = None,
    allow_weak_sandbox: bool = False,
    space_file: Path | None = None,
    roles_file: Path | None = None,
    init_from: Path | None = None,
):
    from rolegraph.cli.space_opts import search_space
    from rolegraph.models.hub import ModelHub
    from rolegraph.models.pool import ModelPool
    from rolegraph.models.timings import measured_rates
    from rolegraph.optimize.api import make_optimizer, optimize_async
    from rolegraph.optimize.estimate import needs_estimate
    from rolegraph.optimize.run_dirs import new_run_dir
    from rolegraph.optimize.run_setup import check_before_estimate
    from rolegraph.optimize.spending import DollarCapReachedError
    from rolegraph.reports import render
    from rolegraph.settings import Settings
    from rolegraph.tasks.registry import get_task

    pool = ModelPool.load(pool_file, world=world)
    settings = Settings.from_env(allow_weak_sandbox=allow_weak_sandbox)
    task_options = parse_task_options(task_option, task_size)
    task = get_task(task_name, data=data, **task_options)
    check_evaluation_budget(config, task)  # before the run directory exists
    space = search_space(
        pool,
        task.family,
        space_file,
        roles_file,
        models,
        roles,
        max_nodes,
        budget,
        budget_kind,
        objective,
        rates=lambda chosen: measured_rates(settings.home, [pool.get(m) for m in chosen]),
    )
    for model_id in dict.fromkeys([*space.models, *([agent_model] if agent_model else [])]):
        pool.require_key(model_id)  # a missing key is one line before any call, not after the first paid ones
    hub = ModelHub(pool, settings)
    run_dir: Path | None = None
    try:
        optimizer = make_optimizer(optimizer_name, hub=hub, agent_model=agent_model)
        await check_before_estimate(task, space, hub, config, optimizer)  # refused before any estimate is printed
        if needs_estimate(space, agent_model):
            print_estimate(space, config, task, optimizer, agent_model)
        print_split_notes(config, task)
        settings.ensure_home()  # an unusable state directory fails before a run directory is made
        with new_run_dir(out, task.name, optimizer.name) as run_dir:  # a made one goes again if unused
            result = await optimize_async(
                task,
                space,
                optimizer,
                hub=hub,
                config=config,
                out=run_dir,
                progress=progress,
                # resolved: resume, `eval --add-to` and `route fit` read these files again, from any directory
                task_args={"name": task_name, "data": str(data.expanduser().resolve()) if data else None, "seed": 0}
                | task_options,
                pool_path=str(pool_file.expanduser().resolve()) if pool_file else None,
                agent_model=agent_model,
                executor=executor,
                init_from=init_from,
            )
    except DollarCapReachedError:
        if run_dir is not None:
            render(run_dir)  # the report of the search so far: nothing computed is lost
        raise
    except asyncio.CancelledError:  # Ctrl-C: asyncio.run cancels this task; say what was kept, not just "130"
        raise search_interrupted(run_dir) from None
    finally:
        await hub.aclose()
    render(run_dir)
    return result


def _check_resume_world(run_dir: Path, world: int | None) -> None:
    """--world with --resume must name the run's own world (a run lives in one world)."""
    if world is None:
        return
    from rolegraph.optimize.rundir import RunStore
    from rolegraph.sim.world import resolve_world

    store = RunStore.open(run_dir)
    try:
        stored = store.config().get("world", 0)
    finally:
        store.close()
    resolve_world((stored, f"the run in {run_dir}"), (world, "--world"))


async def _resume(
    run_dir: Path,
    progress: bool,
    executor: Any = None,
    allow_weak_sandbox: bool = False,
    max_dollars: float | None = None,
):
    from rolegraph.optimize.api import resume_async
    from rolegraph.optimize.spending import DollarCapReachedError
    from rolegraph.reports import render
    from rolegraph.settings import Settings

    try:
        result = await resume_async(
            run_dir,
            Settings.from_env(allow_weak_sandbox=allow_weak_sandbox),
            progress=progress,
            executor=executor,
            max_dollars=max_dollars,
        )
    except DollarCapReachedError:
        render(run_dir)
        raise
    except asyncio.CancelledError:  # Ctrl-C (see run_optimize)
        raise search_interrupted(run_dir) from None
    render(run_dir)
    return result


def optimize_cmd(
    ctx: typer.Context,
    task: Annotated[str | None, typer.Option("--task", help="task name (rolegraph eval lists them)")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="data file for file tasks")] = None,
    task_size: Annotated[int | None, typer.Option("--task-size", min=1, help="items to generate (gsm, arith)")] = None,
    task_option: Annotated[
        list[str] | None, typer.Option(TASK_OPTION, metavar="KEY=VALUE", help=TASK_OPTION_HELP)
    ] = None,
    pool: Annotated[Path | None, typer.Option("--pool", help="model pool YAML merged with the built-ins")] = None,
    world: Annotated[
        int | None, typer.Option("--world", help="simulator world of the sim models (default: the pool's, else 0)")
    ] = None,
    models: Annotated[
        str | None,
        typer.Option("--models", help="candidate models a,b,c (default: the --pool file's models, else the sim pool)"),
    ] = None,
    roles: Annotated[
        str | None, typer.Option("--roles", help="allowed roles, built-in or from --roles-file (default: all of them)")
    ] = None,
    roles_file: Annotated[
        Path | None,
        typer.Option("--roles-file", help="YAML file of your own roles (prompt + parser) the search may use"),
    ] = None,
    space_file: Annotated[
        Path | None,
        typer.Option(
            "--space", help="YAML space file: free-form (models, roles, max_nodes) or staged (stages, output)"
        ),
    ] = None,
    init_from: Annotated[
        Path | None,
        typer.Option(
            "--init-from",
            help="warm start from an earlier run directory: its distribution, and its evidence when the task matches",
        ),
    ] = None,
    budget: Annotated[
        float | None,
        typer.Option(
            "--budget",
            help=f"per-item budget in --budget-kind units (default: the space file's, else {DEFAULT_BUDGET:g})",
        ),
    ] = None,
    budget_kind: Annotated[
        str | None, typer.Option("--budget-kind", help="flops (1B-node units, default) | dollars | latency")
    ] = None,
    max_nodes: Annotated[
        int | None,
        typer.Option("--max-nodes", help=f"most nodes in a graph, output included (default {DEFAULT_MAX_NODES})"),
    ] = None,
    optimizer: Annotated[
        str,
        typer.Option(
            "--optimizer",
            help="agent-reinforce | reinforce | random | tpe | exhaustive; ablations: agent-reinforce:pilot-only | "
            "agent-reinforce:no-identify | cem; earlier agents: agent-reinforce:v1 | agent-reinforce:gp",
        ),
    ] = "agent-reinforce",
    iterations: Annotated[
        int | None,
        typer.Option(
            "--iterations",
            min=1,
            help=f"search iterations (default: {defaults.DEFAULT_ITERATIONS}, or until --max-evaluations is spent "
            "when that is given; "
            "exhaustive: until every graph is scored)",
        ),
    ] = None,
    samples: Annotated[int, typer.Option("--samples", help="graphs per iteration (K)")] = defaults.DEFAULT_SAMPLES,
    batch: Annotated[int, typer.Option("--batch", help="training items per iteration")] = defaults.DEFAULT_BATCH,
    max_evaluations: Annotated[
        int | None, typer.Option("--max-evaluations", min=1, help="evaluation budget in item-level graph runs")
    ] = None,
    objective: Annotated[str, typer.Option("--objective", help="accuracy | joint")] = "accuracy",
    latency_weight: Annotated[
        float | None, typer.Option("--latency-weight", help="w in accuracy - w * latency / ref")
    ] = None,
    latency_cap: Annotated[
        float | None, typer.Option("--latency-cap", help="best accuracy with latency <= S seconds")
    ] = None,
    cost_cap: Annotated[
        float | None, typer.Option("--cost-cap", help="best accuracy with cost <= D dollars per item")
    ] = None,
    agent_model: Annotated[
        str | None,
        typer.Option(
            "--agent-model",
            help="a real model of the pool (id) as the LLM feedback agent of agent-reinforce; without it the "
            "default agent is statistical: a hand-written procedure, no LLM",
        ),
    ] = None,
    validation_items: Annotated[
        int,
        typer.Option(
            "--validation-items",
            help="re-check reserve per top candidate (validation items, spent in rounds on the leader "
            "and its closest rival; the reserve is pooled, so one candidate can get more than this)",
        ),
    ] = defaults.DEFAULT_VALIDATION_ITEMS,
    test_items: Annotated[
        int, typer.Option("--test-items", help="test items for the final score")
    ] = defaults.DEFAULT_TEST_ITEMS,
    max_dollars: Annotated[
        float | None,
        typer.Option(
            "--max-dollars",
            help="stop the search at its last checkpoint when its paid (non-cached) calls reach D dollars; "
            "with --resume: the new cap",
        ),
    ] = None,
    route_items: Annotated[
        int | None,
        typer.Option(
            "--route-items",
            help="fit items on which the front is scored at the end, for `rolegraph route fit` (0: none; "
            "default: twice the re-check's reserve)",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the search (its sampling and batch draws)")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="run directory (default: a new one in ./runs named for the time, task and optimizer)"
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            help="continue the run in this directory as it was started (other options but --max-dollars, "
            "--world, --json, --executor, --ray-address and the sandbox flag are refused)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    executor_name: Annotated[str, typer.Option("--executor", help="where item evaluations run: local | ray")] = "local",
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="Ray cluster to join (default: start a local one)")
    ] = None,
    allow_weak_sandbox: Annotated[bool, typer.Option(ALLOW_WEAK_SANDBOX, help=ALLOW_WEAK_SANDBOX_HELP)] = False,
) -> None:
    """Search for the best collaboration graph for a task under a budget.

    The default optimizer, agent-reinforce, samples graphs from probabilities, scores them and updates
    the probabilities from a feedback agent. By default that agent is statistical: a hand-written
    procedure (a pilot of each model's own ensemble as the first iteration, a weighted-average update
    of feature probabilities, one-change proposals, racing between the graphs that can still be the
    best, and for the second half of the budget only that racing), with no LLM in it. --agent-model
    MODEL makes a real model of the pool write the feedback instead (e.g. --agent-model
    openai/gpt-4o-mini, or an entry of --pool);
    the summary says how many steps its updates drove and how many fell back to the statistical agent.
    """
    from rolegraph.evaluate.executors import make_executor
    from rolegraph.optimize.api import OPTIMIZERS, make_optimizer, resolve_iterations
    from rolegraph.optimize.context import SearchConfig
    from rolegraph.optimize.objectives import Objective

    started = time.perf_counter()
    progress = show_progress(as_json)
    executor = make_executor(executor_name, address=ray_address)  # a wrong name fails before any work
    with SigtermAsInterrupt(executor.close) as term:  # SIGTERM saves and says so, like Ctrl-C (exit 143)
        if resume is not None:
            check_resume_options(ctx)
            _check_resume_world(resume, world)
            result = term.run(_resume(resume, progress, executor, allow_weak_sandbox, max_dollars))
        else:
            if task is None:
                raise SearchError("give --task NAME (or --resume RUN_DIR)")
            if optimizer not in OPTIMIZERS:
                make_optimizer(optimizer)  # raises with the known names
            if objective not in ("accuracy", "joint"):
                raise SearchError(f"unknown objective '{objective}'. Known: accuracy, joint.")
            obj = Objective.build(objective, latency_weight=latency_weight, latency_cap=latency_cap, cost_cap=cost_cap)
            iterations = resolve_iterations(optimizer, iterations, max_evaluations)
            config = SearchConfig(
                iterations=iterations,
                samples=samples,
                batch=batch,
                max_evaluations=max_evaluations,
                validation_items=validation_items,
                test_items=test_items,
                seed=seed,
                max_dollars=max_dollars,
                route_items=route_items,
            )
            result = term.run(
                run_optimize(
                    task_name=task,
                    data=data,
                    pool_file=pool,
                    models=_csv(models),
                    roles=_csv(roles),
                    budget=budget,
                    budget_kind=budget_kind,
                    optimizer_name=optimizer,
                    objective=obj,
                    max_nodes=max_nodes,
                    config=config,
                    agent_model=agent_model,
                    out=out,
                    progress=progress,
                    task_size=task_size,
                    task_option=task_option,
                    executor=executor,
                    world=world,
                    allow_weak_sandbox=allow_weak_sandbox,
                    space_file=space_file,
                    roles_file=roles_file,
                    init_from=init_from,
                )
            )
    if as_json:
        typer.echo(json.dumps(result.summary()))
        warning = result.feedback_agent.warning() if result.feedback_agent else None
        if warning:
            typer.echo(warning, err=True)
    else:
        print_result(result, time.perf_counter() - started)


def register(app: typer.Typer) -> None:
    app.command("optimize")(optimize_cmd)
