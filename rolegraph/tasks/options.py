"""Task options arrive as Python values or as CLI text; these turn them into checked values."""

from __future__ import annotations

from rolegraph.errors import TaskError


def int_option(value: object, name: str, task: str, *, minimum: int = 1) -> int:
    """An integer option >= minimum ('500' and 500 both work), else a one-line TaskError."""
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise TaskError(f"task '{task}': option {name}={value!r} should be an integer") from None
    if isinstance(number, bool) or number < minimum:
        raise TaskError(f"task '{task}': option {name}={value!r} should be an integer >= {minimum}")
    return number


def choice_option(value: object, name: str, task: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed` (case-insensitive), else a one-line TaskError listing them."""
    text = str(value).strip().lower()
    if text not in allowed:
        raise TaskError(f"task '{task}': option {name}={value!r} should be one of {', '.join(allowed)}")
    return text
