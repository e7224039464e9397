"""Task options arrive as Python values or as CLI text; these turn them into checked values."""

from __future__ import annotations

from rolegraph.errors import TaskError


def int_option(value: object, name: str, task: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    """An integer option from minimum to maximum ('500' and 500 both work), else a one-line TaskError. A maximum
    is for options whose cost grows with the value (a generated task's size): an absurd one would hang the
    command, building items for hours, instead of being refused."""
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise TaskError(f"task '{task}': option {name}={value!r} should be an integer") from None
    if isinstance(number, bool) or number < minimum:
        raise TaskError(f"task '{task}': option {name}={value!r} should be an integer >= {minimum}")
    if maximum is not None and number > maximum:
        raise TaskError(f"task '{task}': option {name}={value!r} should be an integer from {minimum} to {maximum}")
    return number


def choice_option(value: object, name: str, task: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed` (case-insensitive), else a one-line TaskError listing them."""
    text = str(value).strip().lower()
    if text not in allowed:
        raise TaskError(f"task '{task}': option {name}={value!r} should be one of {', '.join(allowed)}")
    return text
