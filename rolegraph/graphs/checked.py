"""Pydantic models a user builds in Python (a `Budget`, a `StopRule`, a `RouterSpec`, a `NodeSpec`, ...): a mistake
in the arguments is a `RolegraphError` with one line per problem, as a file's mistakes are, never pydantic's
multi-line `ValidationError` dump.

Only direct construction is wrapped. `model_validate` (what the file loaders call, and what pydantic runs for a
nested model given as a dict) still raises `ValidationError`, which those loaders turn into lines naming the file
and the entry: the wrapping `__init__` is marked as pydantic's own (`__pydantic_base_init__`), so pydantic never
routes validation through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from rolegraph.errors import GraphError, RolegraphError, unknown_field

MAX_SHOWN_CHARS = 80


def validation_lines(exc: ValidationError, model: type[BaseModel]) -> list[str]:
    """One line per problem of `exc`, naming the field (an unknown one with the known ones and a suggestion)."""
    lines: list[str] = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            line = unknown_field(field, model.model_fields)
        elif err["type"] == "missing":
            line = f"missing field '{field}'"
        elif not field:  # a check of the whole model
            line = msg
        else:
            subject, should, rest = msg.partition("should ")  # "Input should be ...", "List should have ..."
            said = f"must {rest}" if should and len(subject.split()) <= 1 else f": {msg}"
            said = said.split(", got ")[0]  # the value is shown once, below
            shown = repr(err.get("input"))
            shown = shown if len(shown) <= MAX_SHOWN_CHARS else shown[: MAX_SHOWN_CHARS - 3] + "..."
            line = f"field '{field}' {said}, got {shown}".replace("' :", "':")
        if line not in lines:
            lines.append(line)
    return lines


class CheckedModel(BaseModel):
    """A model whose constructor raises `user_error` (a `GraphError` unless a subclass says otherwise)."""

    @classmethod
    def user_error(cls, lines: list[str]) -> RolegraphError:
        return GraphError(lines, source=cls.__name__)

    if not TYPE_CHECKING:  # hidden from mypy, which keeps the typed __init__ pydantic makes from the fields

        def __init__(self, /, **data: Any) -> None:
            try:
                super().__init__(**data)
            except ValidationError as exc:
                raise self.user_error(validation_lines(exc, type(self))) from None

        __init__.__pydantic_base_init__ = True
