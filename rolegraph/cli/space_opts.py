"""The search space of `rolegraph optimize` from its options: --space FILE, or --models/--roles/
--max-nodes, with --budget/--budget-kind, and user roles from --roles-file (and a space file's
`roles_file`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rolegraph.errors import SearchError

if TYPE_CHECKING:
    from rolegraph.optimize.space import BudgetKind

SIM_PREFIX = "sim/"
DEFAULT_BUDGET = 18.0
DEFAULT_BUDGET_KIND = "flops"
DEFAULT_MAX_NODES = 6


def search_space(
    pool: Any,
    family: str,
    space_file: Path | None,
    roles_file: Path | None,
    models: list[str] | None,
    roles: list[str] | None,
    max_nodes: int | None,
    budget: float | None,
    budget_kind: str | None,
    objective: Any,
    rates: Callable[[list[str]], dict[str, Any]] | None = None,
) -> Any:
    """The search space: from --space FILE (flags for budget and kind override it), else from flags;
    user roles from --roles-file and the space file's roles_file. `--models` left out: the pool file's
    own models (`default_models`). `rates(models)`: real models' measured latency rates."""
    from rolegraph.agents.registry import builtin_role_names
    from rolegraph.agents.roles_file import load_roles
    from rolegraph.optimize.space import SearchSpace
    from rolegraph.optimize.space_file import build_space, check_models, read_space_file, roles_file_path

    registry = load_roles(roles_file) if roles_file is not None else None
    if space_file is not None:
        given = [
            flag for flag, v in (("--models", models), ("--roles", roles), ("--max-nodes", max_nodes)) if v is not None
        ]
        if given:
            raise SearchError(f"{space_file} defines the space: drop {', '.join(given)} (or edit the file)")
        sf = read_space_file(space_file)
        check_models(sf, pool, str(space_file))  # before `rates` looks the models up: name the file and the stage
        stage_models = [m for st in sf.stages or () for m in st.models or ()]
        file_models = dict.fromkeys([*sf.models, *stage_models, *(sf.output.models or () if sf.output else ())])
        extra = roles_file_path(sf, space_file)
        if extra is not None and not _same_file(extra, roles_file):  # the same file twice: read once
            if registry is not None and roles_file is not None:
                _refuse_redefinition(extra, roles_file, registry)
            registry = load_roles(extra, registry)
        space = build_space(
            sf,
            pool,
            source=str(space_file),
            registry=registry,
            budget=budget if budget is not None or sf.budget is not None else DEFAULT_BUDGET,
            budget_kind=budget_kind,
            objective=objective,
            family=family,
            latency_rates=rates(list(file_models)) if rates is not None else None,
        )
        return _unmixed(space)
    chosen = models or default_models(pool)
    default_roles = registry.names() if registry is not None else builtin_role_names()
    space = SearchSpace(
        pool=pool,
        models=tuple(chosen),
        roles=tuple(roles or default_roles),
        max_nodes=max_nodes if max_nodes is not None else DEFAULT_MAX_NODES,  # 0 is an error, not the default
        budget=budget if budget is not None else DEFAULT_BUDGET,
        budget_kind=cast("BudgetKind", budget_kind or DEFAULT_BUDGET_KIND),  # SearchSpace checks it
        objective=objective,
        family=family,
        registry=registry,
        latency_rates=rates(list(chosen)) if rates is not None else {},
    )
    return _unmixed(space)


def _unmixed(space: Any) -> Any:
    """The space, unless it mixes simulated and real models (`refuse_mixed_search`): refused before the
    pre-search estimate is printed, as `optimize_async` would refuse it before any call."""
    from rolegraph.graphs.gold_guard import refuse_mixed_search

    refuse_mixed_search(space.pool, space.models)
    return space


def _same_file(a: Path, b: Path | None) -> bool:
    """True when `b` names the file `a` names (by resolved path; a missing file is left to the loader)."""
    return b is not None and a.expanduser().resolve() == b.expanduser().resolve()


def _refuse_redefinition(extra: Path, roles_file: Path, registry: Any) -> None:
    """The space file's roles file defines a role --roles-file already defined: say which, in the user's terms
    (the registry would only say the role is already registered)."""
    from rolegraph.agents.roles_file import load_role_defs

    defined = {d["name"] for d in registry.definitions}
    twice = [d.name for d in load_role_defs(extra) if d.name in defined]
    if twice:
        raise SearchError(
            f"role '{twice[0]}' is defined both in --roles-file {roles_file} and in the space file's roles_file "
            f"{extra}: keep one definition"
        )


def default_models(pool: Any) -> list[str]:
    """`--models` left out: the pool file's own models when one is given (--pool or $ROLEGRAPH_POOL),
    else the simulated pool."""
    return list(pool.user_ids) or [m for m in pool.ids if m.startswith(SIM_PREFIX)]
