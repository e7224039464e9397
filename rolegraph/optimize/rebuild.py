"""An existing run reopened: its task, space, hub and optimizer rebuilt from the store's config, and its
front scored on shared (paired) fit and test items for `rolegraph route fit`, when the search ends or later."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rolegraph.agents.registry import RoleRegistry, builtin_role_names
from rolegraph.agents.roles_file import register_defs
from rolegraph.errors import GraphError, SearchError
from rolegraph.evaluate.result import EvalResult
from rolegraph.graphs.router import RouterSpec
from rolegraph.graphs.spec import GraphSpec
from rolegraph.graphs.validate import silent_outputs
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.checkpoint import PaidLedger
from rolegraph.optimize.context import SearchConfig, SearchContext
from rolegraph.optimize.final import FinalChoice
from rolegraph.optimize.ignored_options import stored_options
from rolegraph.optimize.methods import make_optimizer
from rolegraph.optimize.paired import FIT, TEST, candidates, comparable_sizes, fit_items, front_graphs, store_paired
from rolegraph.optimize.run_reader import REBUILD_KEYS, stored_config
from rolegraph.optimize.rundir import RunStore, resume_command
from rolegraph.optimize.runlock import RunLock
from rolegraph.optimize.space import SearchSpace
from rolegraph.settings import Settings
from rolegraph.tasks.base import Task
from rolegraph.tools.toolbox import ToolBox


async def pair_front(ctx: SearchContext, final: FinalChoice, run_dir: str | Path, progress: bool = False) -> None:
    """Score the chosen graph, the front and the single models on shared fit and test items, into the run
    directory's paired sets (optimize/paired.py), for `rolegraph route fit`. Not charged to the search."""
    cfg = ctx.config
    if cfg.routing_items <= 0:
        return
    best = ctx.graph(final.chosen_hash)
    front = front_graphs(ctx.trace.records, ctx.graphs)
    singles = [ctx.space.single(m) for m in ctx.space.models] if cfg.compare_singles else []
    output_models = ctx.space.stage_output.models if ctx.space.stage_output is not None else ctx.space.models
    sizes = comparable_sizes([ctx.hub.pool.get(m) for m in output_models])
    splits = {
        FIT: fit_items({"validation": ctx.split("validation"), "train": ctx.split("train")}, cfg.routing_items),
        TEST: ctx.split("test")[: cfg.test_items],
    }
    await store_paired(
        run_dir,
        ctx.task,
        candidates(best, front, singles, output_sizes=sizes),
        splits,
        hub=ctx.hub,
        toolbox=ctx.toolbox,
        concurrency=cfg.concurrency,
        seed=cfg.eval_seed,
        executor=ctx.executor,
        progress=progress,
        roles=ctx.space.registry,
        done={TEST: final.test_runs},  # the search's own test runs, on these test items
    )


def default_toolbox(settings: Settings, task: Task) -> ToolBox:
    from rolegraph.tools.toolbox import default_toolbox as make

    return make(settings, corpus=task.corpus(), web=False)


def rebuild(
    run_dir: str | Path,
    settings: Settings,
    hub: ModelHub | None = None,
    task: Task | None = None,
    roles: RoleRegistry | None = None,
) -> tuple[dict, Task, SearchSpace, ModelHub, Optimizer, SearchConfig]:
    """Task, space, hub and optimizer of an existing run, from its store's config. The run's own
    roles come back from its stored definitions; roles registered in Python need `roles`, which is then used
    instead of them (and must hold every role the run used: `_given_roles`)."""
    from rolegraph.tasks.registry import get_task

    store = RunStore.open(run_dir)
    try:
        cfg = stored_config(store, REBUILD_KEYS)
    finally:
        store.close()
    # before a hub is made: a run whose roles cannot come back is refused with nothing open
    roles = _stored_roles(run_dir, cfg) if roles is None else _given_roles(run_dir, cfg, roles)
    pool = ModelPool.load(cfg.get("pool"), world=cfg.get("world")) if hub is None else hub.pool
    hub = hub or ModelHub(pool, settings)
    if task is None:
        args = dict(cfg["task_args"])
        task = get_task(args.pop("name"), data=args.pop("data", None), seed=int(args.pop("seed", 0)), **args)
    space = SearchSpace.from_dict(cfg["space"], pool, roles)
    opt_cfg = dict(cfg["optimizer"])
    name = opt_cfg.pop("name")
    optimizer = make_optimizer(name, hub=hub, agent_model=cfg.get("agent_model"), **stored_options(name, opt_cfg))
    return cfg, task, space, hub, optimizer, SearchConfig(**cfg["search"])


def _stored_roles(run_dir: str | Path, cfg: dict) -> RoleRegistry | None:
    """The run's roles from its stored definitions (None: it used the built-ins only). A role it used that has
    none was registered in Python with a parser function, which a store cannot hold: say how to pass it."""
    roles = register_defs(cfg["role_defs"]) if cfg.get("role_defs") else None
    known = roles.names() if roles is not None else builtin_role_names()
    missing = [r for r in cfg["space"].get("roles", ()) if r not in known]
    if missing:
        names = ", ".join(f"'{r}'" for r in missing)
        raise SearchError(
            f"the run in {run_dir} uses role(s) {names} registered in Python with a parser function, which a run "
            "cannot store: pass the same RoleRegistry again, e.g. resume_async(run_dir, settings, roles=registry) "
            "or pair_run / add_to_run(..., roles=registry) (a run started that way continues only from Python; "
            "roles from a roles file or a template alone are stored and need nothing)"
        )
    return roles


def _given_roles(run_dir: str | Path, cfg: dict, roles: RoleRegistry) -> RoleRegistry:
    """`roles` when it holds every role the run used or stored a definition of; else the one-line SearchError
    naming the missing ones (not an unknown-role error from deep inside rebuilding the space, or a graph of the
    run failing on its first item while being scored)."""
    if not isinstance(roles, RoleRegistry):
        raise SearchError(f"roles must be a RoleRegistry, got {type(roles).__name__}")
    used = [*cfg["space"].get("roles", ()), *(d["name"] for d in cfg.get("role_defs") or [])]
    missing = [r for r in dict.fromkeys(used) if r not in roles]
    if missing:
        names = ", ".join(f"'{r}'" for r in missing)
        raise SearchError(
            f"the roles given lack role(s) {names} that the run in {run_dir} used: pass the RoleRegistry the run "
            "was started with"
        )
    return roles


def hold_run(run_dir: str | Path) -> RunLock:
    """The run directory held (`RunLock`) by a command that writes to it after its search (`pair_run`,
    `add_to_run`, `route fit`), or a one-line refusal while another process works in it: two of them at once
    each score (and with real endpoints pay for) the same graphs, and either could file outcomes into a run a
    `--resume` is still pairing. A path that is not a run is refused first, before a lock file is made in it."""
    RunStore.open(run_dir).close()
    return RunLock.take(run_dir)


async def pair_run(
    run_dir: str | Path,
    settings: Settings,
    *,
    progress: bool = False,
    executor: Any = None,
    roles: RoleRegistry | None = None,
) -> None:
    """Score a finished run's front for routing, as its search does when it ends (`pair_front`): for runs from
    before routing existed or searched with route_items 0. Graphs already in the paired sets are skipped, and
    runs the search made come from the response cache. Holds the run directory while it scores (`hold_run`).
    `roles`: the run's RoleRegistry, needed when it used roles registered in Python (a run cannot store them;
    see `rebuild`); used instead of the stored definitions."""
    with hold_run(run_dir):
        await pair_run_held(run_dir, settings, progress=progress, executor=executor, roles=roles)


async def pair_run_held(
    run_dir: str | Path,
    settings: Settings,
    *,
    progress: bool = False,
    executor: Any = None,
    roles: RoleRegistry | None = None,
) -> None:
    """`pair_run` for a caller that holds the run directory already (`add_to_run`, `route fit`)."""
    from rolegraph.optimize.run_reader import load_run

    cfg, task, space, hub, _, config = rebuild(run_dir, settings, roles=roles)
    run = load_run(run_dir)
    if run["final"] is None:
        await hub.aclose()
        raise SearchError(f"the search in {run_dir} has not finished: continue it with `{resume_command(run_dir)}`")
    if config.routing_items <= 0:
        config = SearchConfig(**{**cfg["search"], "route_items": None})
    ctx = SearchContext(
        task=task, space=space, hub=hub, config=config, toolbox=default_toolbox(hub.settings, task), executor=executor
    )
    ctx.restore_graphs(run["graphs"])
    ctx.trace.records = run["records"]
    ledger = PaidLedger.start(run_dir, hub.stats)  # its paid calls are the run's too: in its `paid_usd`
    try:
        await pair_front(ctx, run["final"], run_dir, progress)
    finally:
        ledger.close()
        await hub.aclose()


async def add_to_run(
    run_dir: str | Path,
    specs: list[Any],
    settings: Settings,
    *,
    progress: bool = False,
    executor: Any = None,
    allow_commands: bool = False,
    roles: RoleRegistry | None = None,
) -> dict[str, list[EvalResult]]:
    """Score graphs (or routers) on a finished run's paired fit and test items and add them to its paired sets,
    so `rolegraph route fit` considers them. A graph's MCP servers (`mcp_servers:`) are connected for its
    scoring, as `eval` connects them (a stdio server only with `allow_commands`). Returns {split: EvalResults}.
    Holds the run directory while it scores (`hold_run`): a second `add_to_run` at once is refused.
    `roles`: as `pair_run`'s (the run's registry, for roles registered in Python); the graphs added may use any
    of its roles."""
    from rolegraph.tools.mcp_config import check_allowed

    specs = loaded_specs(specs)
    check_allowed([server for spec in specs for server in getattr(spec, "mcp_servers", [])], settings, allow_commands)
    with hold_run(run_dir):
        return await _add_held(run_dir, specs, settings, progress, executor, allow_commands, roles)


def loaded_specs(specs: list[Any]) -> list[GraphSpec | RouterSpec]:
    """Graphs and routers as objects: a path (str or Path) is loaded as a graph or router file (`load_spec`), and
    anything else is refused in one line here, not as an AttributeError from deep inside the scoring."""
    from rolegraph.graphs.router_io import load_spec

    if isinstance(specs, (str, Path, GraphSpec, RouterSpec)):
        specs = [specs]
    out: list[GraphSpec | RouterSpec] = []
    for spec in specs:
        if isinstance(spec, (str, Path)):
            spec = load_spec(spec)
        if not isinstance(spec, (GraphSpec, RouterSpec)):
            raise GraphError(
                [f"add_to_run takes GraphSpec or RouterSpec objects or paths of their files, got {type(spec).__name__}"]
            )
        out.append(spec)
    return out


def _refuse_silent(run_dir: str | Path, specs: list[GraphSpec | RouterSpec], roles: RoleRegistry | None = None) -> None:
    """Before anything is scored or paired: a graph whose output never answers would be filed as scoring 0 on
    every item (`silent_outputs`); `rolegraph eval --add-to` refuses it with the same line. Roles are `roles` when
    given, else the run's own (its stored definitions) plus the built-ins."""
    if roles is None:
        store = RunStore.open(run_dir)
        try:
            defs = store.config(check_inputs=False).get("role_defs")
        finally:
            store.close()
        roles = register_defs(defs) if defs else None
    lines = [f"'{spec.name}': {line}" for spec in specs for line in silent_outputs(spec, roles)]
    if lines:
        raise GraphError(lines)


async def _add_held(
    run_dir: str | Path,
    specs: list[Any],
    settings: Settings,
    progress: bool,
    executor: Any,
    allow_commands: bool,
    roles: RoleRegistry | None = None,
) -> dict[str, list[EvalResult]]:
    """`add_to_run` once it holds the run directory."""
    from rolegraph.evaluate.store import ResultsStore
    from rolegraph.optimize.paired import PAIRED_SET, Candidate, results_path
    from rolegraph.tools.mcp import mcp_toolbox

    cfg, task, space, hub, _, config = rebuild(run_dir, settings, roles=roles)  # its roles checked before any scoring
    try:
        _refuse_silent(run_dir, specs, space.registry)
        with ResultsStore(results_path(run_dir)) as store:
            have = {split: store.paired(PAIRED_SET, split) for split in (FIT, TEST)}
        if not all(have.values()):
            await pair_run_held(run_dir, settings, progress=progress, executor=executor, roles=roles)
    except BaseException:
        await hub.aclose()
        raise
    ledger = PaidLedger.start(run_dir, hub.stats)  # what scoring them pays is the run's: its report's total holds it
    try:
        by_id = {it.id: it for it in task.all_items()}
        splits = {}
        with ResultsStore(results_path(run_dir)) as store:
            for split in (FIT, TEST):
                first = store.paired(PAIRED_SET, split)[0]
                splits[split] = [by_id[it.item_id] for it in store.load(first.run_id).items]
        base = default_toolbox(hub.settings, task)
        out: dict[str, list[EvalResult]] = {}
        for spec in specs:  # one at a time: each graph's own MCP servers are connected while it is scored
            servers = getattr(spec, "mcp_servers", [])
            async with mcp_toolbox(servers, hub.settings, base, allow_commands=allow_commands) as toolbox:
                got = await store_paired(
                    run_dir,
                    task,
                    [Candidate("eval", spec)],
                    splits,
                    hub=hub,
                    toolbox=toolbox,
                    concurrency=config.concurrency,
                    seed=config.eval_seed,
                    executor=executor,
                    progress=progress,
                    roles=space.registry,
                )
            for split, rows in got.items():
                out.setdefault(split, []).extend(rows)
        return out
    finally:
        ledger.close()
        await hub.aclose()
