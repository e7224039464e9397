"""Role registry: the built-in roles plus any a user registers (prompt template + parser)."""
from __future__ import annotations

BUILTIN_ROLES = ("planner", "searcher", "solver", "verifier", "fuser")


def builtin_role_names() -> tuple[str, ...]:
    return BUILTIN_ROLES
