"""Errors a user can cause. The CLI prints their message as one line and exits with code 2.

Everything else is a bug and may surface as a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


class RolegraphError(Exception):
    """Base of user-caused errors: the message is one complete, actionable line."""

    exit_code = 2


class RolegraphWarning(UserWarning):
    """Base of the warnings rolegraph gives a user (a model left out, a short split, an ignored option): Python
    callers filter them as any `warnings` category; the CLI prints each as one `warning: ...` line on stderr,
    without the file and source line Python's default display adds (`cli.main`)."""


class UnknownModelError(RolegraphError):
    pass


class MissingKeyError(RolegraphError):
    pass


class PoolFileError(RolegraphError):
    pass


class EngineMissingError(RolegraphError):
    """A backend's engine (e.g. the local GGUF runtime) is not installed."""


class NoAnswerKeyError(RolegraphError):
    """A simulated model was asked a free-form question: it can only answer task items."""


MAX_ERROR_CHARS = 300
"""The default cap of `one_line`: a reason long enough to act on, short enough for a trace or a terminal line."""


def one_line(text: object, limit: int | None = MAX_ERROR_CHARS, ellipsis: str = "...") -> str:
    """`text` with its whitespace runs (line breaks too) made single spaces and cut to `limit` characters, the
    cut marked by `ellipsis` (None: no cap). One helper for every reason, cell and summary printed on one line,
    so the places that shorten text agree on how."""
    flat = " ".join(str(text).split())
    return flat if limit is None or len(flat) <= limit else flat[: limit - len(ellipsis)] + ellipsis


SHOWN_ARG_CHARS = 80
"""The cap of `shown_arg`: enough to recognise a wrong argument, short of dumping a whole object into a message."""


def shown_arg(value: object) -> str:
    """A wrongly typed argument as a message quotes it: its repr (None stays None, '5' stays quoted), one short
    line."""
    return one_line(repr(value), SHOWN_ARG_CHARS)


def _one_line(text: object) -> str:
    """A problem prints as one line: line breaks carried in from a user's file are shown escaped."""
    return str(text).replace("\r", "\\r").replace("\n", "\\n")


class GraphError(RolegraphError):
    """A graph spec is invalid. `problems` holds one message per problem."""

    def __init__(self, problems: list[str] | str, source: str | None = None):
        self.problems = [_one_line(p) for p in ([problems] if isinstance(problems, str) else problems)]
        self.source = source
        where = f"{source}: " if source else ""
        head = self.problems[0] if self.problems else "invalid graph"
        more = (
            f" (+{len(self.problems) - 1} more problem(s): {'; '.join(self.problems[1:])})"
            if len(self.problems) > 1
            else ""
        )
        super().__init__(f"{where}{head}{more}")


class BudgetExceededError(RolegraphError):
    """A token, dollar or time cap would be exceeded; `partial` carries what was computed.

    `partial` is a `RunResult` (a run stopped: `exc.partial.nodes`) or an `EvalResult` (an evaluation stopped:
    `exc.partial.items`), or None. It is typed Any, not those classes: importing them here, even under
    TYPE_CHECKING, would make the package import circle tests/test_layout.py forbids (graphs -> errors ->
    graphs), and `object` made the documented `exc.partial.nodes` a type error."""

    def __init__(self, message: str, partial: object | None = None):
        super().__init__(message)
        self.partial: Any = partial


class NodeFailedError(RolegraphError):
    """A node still failed after the model layer's retries."""

    def __init__(self, message: str, node_id: str, partial: object | None = None):
        super().__init__(message)
        self.node_id = node_id
        self.partial: Any = partial  # the run so far (a RunResult), typed as BudgetExceededError.partial is


class TaskError(RolegraphError):
    pass


class DataFileError(RolegraphError):
    pass


class OutputFileError(RolegraphError):
    """A file the user asked for (a picture, a router file) cannot be written where they named it."""


class StateFileError(RolegraphError):
    """The state directory ($ROLEGRAPH_HOME) or a file in it cannot be created or opened."""


class SearchError(RolegraphError):
    """A search (optimize) cannot start or continue: bad budget, bad resume dir, ..."""


def did_you_mean(name: object, known: Iterable[str], n: int = 3, *, list_known: bool = True) -> str:
    """' Did you mean: a, b?' for close matches of `name` in `known`, else a short list of known names
    (or nothing, with `list_known=False`, for a message that lists them already). A `name` that is not a string
    (None or a number passed from Python) matches nothing: difflib would raise a TypeError in the middle of the
    very message that explains the mistake."""
    known = sorted(set(known))
    close = difflib.get_close_matches(name, known, n=n, cutoff=0.5) if isinstance(name, str) else []
    if close:
        return f" Did you mean: {', '.join(close)}?"
    if not list_known:
        return ""
    shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
    return f" Known: {shown}."


def unknown_field(field: object, fields: Iterable[str]) -> str:
    """ "unknown field 'x' (fields: a, b). Did you mean: a?": the fields listed once, a suggestion when one is close."""
    fields = list(fields)
    return f"unknown field '{field}' (fields: {', '.join(fields)}).{did_you_mean(str(field), fields, list_known=False)}"


def field_problem(where: str, field: str, kind: str, msg: str, fields: Iterable[str]) -> str:
    """One line for one pydantic problem of a user's file, prefixed by `where` ("role 2 ('critic'): "): an unknown
    field with the known `fields` and a suggestion, a missing field by name, else the message without pydantic's
    "Value error, " prefix."""
    if kind == "extra_forbidden":
        return f"{where}{unknown_field(field, fields)}"
    if kind == "missing":
        return f"{where}missing field '{field}'"
    msg = msg.removeprefix("Value error, ")
    return f"{where}{field + ': ' if field else ''}{msg}"


def carry_error(exc: RolegraphError) -> tuple[type[BaseException], str, dict[str, Any]]:
    """A user error as (class, message, attributes): custom __init__ signatures need not survive pickling."""
    return type(exc), str(exc), {k: v for k, v in vars(exc).items() if k != "partial"}


def rebuild_error(cls: type[BaseException], message: str, attrs: dict[str, Any]) -> BaseException:
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    exc.__dict__.update(attrs)
    return exc


class SandboxRefusedError(RolegraphError):
    """Model code would run with neither namespaces nor the seccomp filter, and weak containment was not allowed."""
