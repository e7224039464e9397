"""Checks of a `SearchSpace`'s arguments that stand alone (no pool or cost needed): each mistake is one
`SearchError` line naming the fix, for a Python caller as for the command line."""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real

from rolegraph.agents.registry import RoleRegistry, builtin_role_names
from rolegraph.errors import SearchError, did_you_mean

OWN_ROLE_HINT = (
    " (a role of your own needs its RoleRegistry: in Python SearchSpace(registry=...), or resume_async(..., "
    "roles=...) for a run whose roles were registered with Python functions; on the command line --roles-file)"
)
"""Said when a space is made without a registry: how to give one from Python and from the CLI alike."""


def require_sequence(value: object, what: str) -> None:
    """A bare string where ids are expected would be read as one id per character: refuse it."""
    if isinstance(value, str):
        raise SearchError(f"{what} must be a list of ids, got the string '{value}': pass [{value!r}]")


def check_roles(roles: Iterable[str], registry: RoleRegistry | None) -> None:
    """Every role is known to `registry` (None: the built-in roles)."""
    known = registry.names() if registry is not None else builtin_role_names()
    for role in roles:
        if role not in known:
            hint = "" if registry is not None else OWN_ROLE_HINT
            raise SearchError(f"unknown role '{role}'." + did_you_mean(role, known) + hint)


def check_budget(budget: object) -> None:
    """None (no budget) or a finite positive number. NaN compares false with everything, so it used to pass
    the positivity check and fail later as "too small for any graph"; infinity is no budget in disguise."""
    if budget is None:
        return
    if isinstance(budget, bool) or not isinstance(budget, Real):
        raise SearchError(f"the budget must be a number (or None: no budget), got {budget!r}")
    if not math.isfinite(budget) or budget <= 0:
        raise SearchError(f"the budget must be a finite positive number (or None: no budget), got {budget!r}")
