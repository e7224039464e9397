"""`rolegraph validate`, `show` and `run`: check a graph file, look at it, run it once (run_output.py prints
the run).

Imports of the heavy layers (runtime, tasks, tools) stay inside the commands so `--help` is fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rolegraph.cli.interrupt import SigtermAsInterrupt
from rolegraph.cli.options import (
    ALLOW_WEAK_SANDBOX,
    ALLOW_WEAK_SANDBOX_HELP,
    TASK_OPTION,
    TASK_OPTION_HELP,
    task_options,
)
from rolegraph.cli.run_output import print_run, run_json
from rolegraph.errors import GraphError, RolegraphError, TaskError
from rolegraph.money import money

if TYPE_CHECKING:  # the heavy layers load inside the commands (`--help` stays fast): hints only here
    from rolegraph.agents.registry import RoleRegistry
    from rolegraph.models.hub import ModelHub
    from rolegraph.tools.toolbox import ToolBox

DEFAULT_FAMILY = "math"
NO_COALESCE_HELP = "send one request per node even where nodes of one model read identical messages (no n=k)"
GraphArg = Annotated[Path, typer.Argument(help="graph or router file (YAML or JSON)", show_default=False)]
PoolOpt = Annotated[
    Path | None, typer.Option("--pool", help="model pool YAML merged with the built-ins (default: $ROLEGRAPH_POOL)")
]
AllowCommandsOpt = Annotated[
    bool,
    typer.Option(
        "--allow-commands",
        help="let the graph file start the programs its MCP servers name (stdio); "
        "otherwise only commands allowed in settings.yaml in $ROLEGRAPH_HOME start, and only if the graph "
        "sets no env for them",
    ),
]
RolesOpt = Annotated[
    Path | None, typer.Option("--roles-file", help="YAML file of your own roles the graph uses (see optimize)")
]
FamilyOpt = Annotated[
    str, typer.Option("--family", help="token profile for FLOPs / cost estimates: math, mmlu, code or qa")
]


def _profile(family: str):
    from rolegraph.graphs.analysis import TOKEN_PROFILES

    if family not in TOKEN_PROFILES:
        raise RolegraphError(f"unknown --family '{family}' (choose from: {', '.join(TOKEN_PROFILES)})")
    return TOKEN_PROFILES[family]


class GraphProblems(GraphError):
    """A `GraphError` printed as a first line naming the file and the problem count, then one line each."""

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return f"{self.source}: {self.problems[0]}"
        return "\n".join([f"{self.source}: {len(self.problems)} problems", *(f"  - {p}" for p in self.problems)])


def roles_from_file(roles_file: Path | None) -> RoleRegistry | None:
    """The built-in roles plus a roles file's (None: the built-ins only)."""
    if roles_file is None:
        return None
    from rolegraph.agents.roles_file import load_roles

    return load_roles(roles_file)


def load_checked(
    graph: Path,
    pool_file: Path | None,
    roles: RoleRegistry | None = None,
    world: int | None = None,
    *,
    must_answer: bool = False,
):
    """(spec, pool) for a valid graph, else `GraphProblems` listing every problem under the file name.

    `must_answer` (`validate`): an output node whose role never answers is a problem too, since `eval` and
    `optimize` refuse such a graph; `run` and `show` take it (they show the node's text)."""
    from rolegraph.graphs.router import check_spec
    from rolegraph.graphs.router_io import load_spec
    from rolegraph.models.pool import ModelPool

    pool = ModelPool.load(pool_file, world=world)
    names = roles.names() if roles is not None else None
    try:
        spec = load_spec(graph)  # a graph file or a router file
        problems: list[str] = []
        try:
            check_spec(spec, pool, names, source=str(graph))
        except GraphError as exc:
            problems = list(exc.problems)
        problems += graph_file_problems(spec, roles)
        if must_answer:
            problems += silent_outputs(spec, roles)
        if problems:
            raise GraphError(problems, source=str(graph))
    except GraphError as exc:
        raise GraphProblems(exc.problems, source=exc.source or str(graph)) from None
    return spec, pool


def graph_file_problems(spec: Any, roles: RoleRegistry | None = None) -> list[str]:
    """Tool names the command line's toolbox (the built-ins and the graph's MCP servers) cannot provide, and
    search roles whose nodes list only tools that compute (the run would stop at that node with the same line)."""
    from rolegraph.agents.agent import search_tool
    from rolegraph.agents.registry import RoleError, RoleRegistry
    from rolegraph.graphs.validate import tool_problems
    from rolegraph.tools.toolbox import default_tool_classes, default_tool_names

    registry = roles if roles is not None else RoleRegistry.default()
    toolbox = default_tool_classes()
    graphs = [stage.graph for stage in spec.stages] if _is_router(spec) else [spec]
    problems = [line for g in graphs for line in tool_problems(g, default_tool_names())]
    for g in graphs:
        for node in g.nodes:
            tools = node.params.get("tools")
            if node.role not in registry or registry.get(node.role).mode == "chat" or not isinstance(tools, list):
                continue
            try:
                search_tool(registry.get(node.role), toolbox, tuple(t for t in tools if isinstance(t, str)))
            except RoleError as exc:
                problems.append(f"node '{node.id}': {exc}")
    return problems


def silent_outputs(spec: Any, roles: RoleRegistry | None = None) -> list[str]:
    """Output nodes whose role never answers (`rolegraph.graphs.validate.silent_outputs`, where evaluation checks
    them too): `eval` refuses such a graph; `run` and `serve` show the node's text."""
    from rolegraph.graphs.validate import silent_outputs as check

    return check(spec, roles)


def validate_cmd(
    graph: GraphArg, pool: PoolOpt = None, family: FamilyOpt = DEFAULT_FAMILY, roles_file: RolesOpt = None
) -> None:
    """Check a graph file: exit 0 with a one-line summary, or exit 2 with one line per problem."""
    # problems are raised, not printed here: rolegraph.cli.main prints them and exits 2
    from rolegraph.graphs.analysis import summary

    profile = _profile(family)
    spec, model_pool = load_checked(graph, pool, roles_from_file(roles_file), must_answer=True)
    if _is_router(spec):
        from rolegraph.cli.router_views import summary_line

        typer.echo(f"ok: {graph}: {summary_line(spec, model_pool, profile, family)}")
        return
    typer.echo(f"ok: {graph}: {summary(spec, model_pool, profile).line()} [{family} profile]")


def show_cmd(
    graph: GraphArg,
    pool: PoolOpt = None,
    family: FamilyOpt = DEFAULT_FAMILY,
    mermaid: Annotated[bool, typer.Option("--mermaid", help="print Mermaid flowchart text only")] = False,
    png: Annotated[Path | None, typer.Option("--png", help="also draw the graph into this PNG file")] = None,
) -> None:
    """Show a graph: its nodes and the summary (default), Mermaid text, or a PNG picture."""
    from rich.table import Table

    from rolegraph.cli.tables import stdout_console
    from rolegraph.graphs.analysis import flops_text, summary
    from rolegraph.graphs.render import check_output_file, nodes_table, render_png, to_mermaid

    profile = _profile(family)
    spec, model_pool = load_checked(graph, pool)
    if png is not None:
        check_output_file(png)  # before anything is printed
    if _is_router(spec):
        from rolegraph.cli.router_views import show

        show(spec, graph, model_pool, profile, family, mermaid, png)
        return
    if mermaid:
        typer.echo(to_mermaid(spec), nl=False)
    else:
        nodes = nodes_table(spec, title=f"graph {spec.name} ({graph})")
        info = summary(spec, model_pool, profile)
        table = Table(title=f"summary ({family} profile{', simulated models' if info.simulated else ''})")
        table.add_column("measure")
        table.add_column("value", justify="right")
        flops = flops_text(info.flops_units)
        for name, value in (
            ("nodes", info.nodes),
            ("edges", info.edges),
            ("depth", info.depth),
            ("width", info.width),
            ("max in-degree", info.max_in_degree),
            ("FLOPs units", flops),
            ("est. tokens / run", f"{info.tokens:,}"),
            ("est. $ / run", money(info.cost_usd, "")),
        ):
            table.add_row(name, str(value))
        console = stdout_console(nodes, table)  # into a pipe, whole: not laid out (and cut) for 80 columns
        console.print(nodes)
        console.print(table)
    if png is not None:
        written = render_png(spec, png)
        print(f"wrote {written}", file=sys.stderr if mermaid else sys.stdout)


def _is_router(spec: Any) -> bool:
    return getattr(spec, "kind", None) == "router"


def _pick_item(task: Any, item: str | None):
    """The item whose id is `item`, else the item at that index (`item` an integer); default the first."""
    items = task.all_items()
    if not items:
        raise TaskError(f"task '{task.name}' has no items")
    if item is None:
        return items[0]
    for candidate in items:
        if candidate.id == item:
            return candidate
    try:
        index = int(item)
    except ValueError:
        index = None
    if index is not None and -len(items) <= index < len(items):
        return items[index]
    examples = ", ".join(i.id for i in items[:3])
    raise TaskError(
        f"task '{task.name}' has no item '{item}' ({len(items)} items; an id such as {examples}, "
        f"or an index 0..{len(items) - 1}, or -{len(items)}..-1 from the end)"
    )


def run_cmd(
    graph: GraphArg,
    words: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="QUESTION", help="a free-form question (or use --task); its words are joined, quotes optional"
        ),
    ] = None,
    task: Annotated[str | None, typer.Option("--task", help="task name, e.g. gsm8k")] = None,
    item: Annotated[str | None, typer.Option("--item", help="item id, or index (default 0; -1 is the last)")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="data file for file-based tasks")] = None,
    task_option: Annotated[
        list[str] | None, typer.Option(TASK_OPTION, metavar="KEY=VALUE", help=TASK_OPTION_HELP)
    ] = None,
    pool: PoolOpt = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the run (sim models, sampling)")] = 0,
    world: Annotated[
        int | None, typer.Option("--world", help="simulator world of the sim models (default: the pool's, else 0)")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    web: Annotated[
        bool, typer.Option("--web", help="search the web (falls back to the offline index, and the output says so)")
    ] = False,
    allow_commands: AllowCommandsOpt = False,
    allow_weak_sandbox: Annotated[bool, typer.Option(ALLOW_WEAK_SANDBOX, help=ALLOW_WEAK_SANDBOX_HELP)] = False,
    roles_file: RolesOpt = None,
    no_coalesce: Annotated[bool, typer.Option("--no-coalesce", help=NO_COALESCE_HELP)] = False,
) -> None:
    """Run a graph once, on a question or on one task item, and print the answer and a per-node table."""
    question = " ".join(words) if words else None  # `rolegraph run g.yaml What is 2+2?` as `ollama run` takes it
    if question is not None and task is not None:
        raise RolegraphError("give either a QUESTION or --task T [--item I], not both")
    if task is None and (item is not None or data is not None or task_option):
        raise RolegraphError(f"--item, --data and {TASK_OPTION} need --task")
    if question is None and task is None:
        raise RolegraphError("nothing to run: give a QUESTION or --task T [--item I]")
    if question is not None and not question.strip():
        raise RolegraphError("the question is empty")
    from rolegraph.errors import BudgetExceededError, NodeFailedError
    from rolegraph.graphs.provenance import run_provenance
    from rolegraph.models.hub import ModelHub
    from rolegraph.settings import Settings
    from rolegraph.tools.toolbox import default_toolbox

    roles = roles_from_file(roles_file)
    spec, model_pool = load_checked(graph, pool, roles, world=world)
    settings = Settings.from_env(allow_weak_sandbox=allow_weak_sandbox, coalesce=not no_coalesce)
    task_obj = picked = None
    if task is not None:
        from rolegraph.tasks.registry import get_task

        task_obj = get_task(task, data=data, seed=seed, **task_options(task_option, None))
        picked = _pick_item(task_obj, item)
    corpus = task_obj.corpus() if task_obj is not None else None
    toolbox = default_toolbox(settings, corpus=corpus, web=web and corpus is None)
    hub = ModelHub(model_pool, settings)
    kind = {"answer_kind": task_obj.answer_kind} if task_obj is not None else {}
    target = picked if picked is not None else question
    needs_code = task_obj is not None and getattr(task_obj, "runs_model_code", False)
    built: list[Any] = []  # the compiled graph, also when the run fails (the failed run's provenance)
    try:
        # SIGTERM ends the run as Ctrl-C does: cancelled, so its stdio MCP servers are closed with it (the default
        # left them running, orphaned, until their call ended) and one line says so, exit 143 as eval's
        with SigtermAsInterrupt() as term:
            result, compiled = term.run(
                _run_with_servers(
                    spec, target, hub, toolbox, allow_commands, needs_code, roles=roles, seed=seed, built=built, **kind
                )
            )
    except (BudgetExceededError, NodeFailedError) as exc:
        if json_out and exc.partial is not None:  # what was computed is printed before the one-line error
            part = exc.partial
            failed = (
                run_provenance(built[0], seed=seed, simulation=part.simulation, served=part.served) if built else None
            )
            typer.echo(json.dumps(run_json(part, failed, stats=hub.stats), ensure_ascii=False))
        raise
    if json_out:
        provenance = run_provenance(compiled, seed=seed, simulation=result.simulation, served=result.served)
        extra: dict[str, Any] = {}
        if _is_router(spec):
            from rolegraph.cli.router_views import run_json_extra

            extra = run_json_extra(result)
        if picked is not None and task_obj is not None:  # what the text output's gold line says
            extra |= {"item": picked.id, "gold": picked.gold, "score": task_obj.scorer(settings)(result.answer, picked)}
        typer.echo(json.dumps(run_json(result, provenance, stats=hub.stats) | extra, ensure_ascii=False))
        return
    if picked is not None and task_obj is not None:
        score = task_obj.scorer(settings)(result.answer, picked)
        label, gold_line = f"{task} item {picked.id}", f"gold: {picked.gold} (score {score:g})"
    else:
        label, gold_line = "the question", None
    print_run(result, spec, label, gold_line, stats=hub.stats, pool=hub.pool)
    if _is_router(spec):
        from rolegraph.cli.router_views import print_stages

        print_stages(result)


async def _run_with_servers(
    spec: Any,
    target: Any,
    hub: ModelHub,
    toolbox: ToolBox,
    allow_commands: bool,
    needs_code: bool,
    roles: RoleRegistry | None = None,
    built: list[Any] | None = None,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Run once, with the graph's MCP servers connected for the run (and closed after it); returns the
    result and the compiled graph (for provenance). The compiled graph is also appended to `built` before
    the run: a failed run raises, and its partial `--json` still names the models that answered. Model
    code needs a sandbox with real containment: checked before any call is paid for."""
    from rolegraph.graphs.router_runtime import compile_spec
    from rolegraph.tools.mcp import mcp_toolbox

    try:
        servers = getattr(spec, "mcp_servers", [])  # a router's stages carry none of their own
        async with mcp_toolbox(servers, hub.settings, toolbox, allow_commands=allow_commands) as box:
            compiled = compile_spec(spec, hub, toolbox=box, roles=roles)
            if built is not None:
                built.append(compiled)
            if needs_code or compiled.runs_model_code:
                from rolegraph.tools.sandbox import require_containment

                require_containment(hub.settings.allow_weak_sandbox)
            if getattr(target, "gold", None) is not None:  # a router's every stage, before its first one runs
                from rolegraph.graphs.gold_guard import refuse_gold_leak

                refuse_gold_leak(spec, hub.pool)
            return await compiled.run(target, **kwargs), compiled
    finally:
        await hub.aclose()


def register(app: typer.Typer) -> None:
    """Add `validate`, `show` and `run` to the app."""
    app.command("validate")(validate_cmd)
    app.command("show")(show_cmd)
    app.command("run")(run_cmd)
