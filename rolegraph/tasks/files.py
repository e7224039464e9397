"""Reading task data files with one-line errors that name the path, the line and what was expected.

Loaders describe their format once (`fmt`, e.g. 'JSONL {question, answer}') and every error a
user's file can cause repeats it, so the message alone says how to fix the file.

Text is read as `utf-8-sig`: files saved by Excel or Windows editors start with a byte-order mark,
which plain utf-8 keeps as '\\ufeff' at the start of the first record (a JSON error, a misnamed
first CSV cell, a question starting with an invisible character).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rolegraph.errors import DataFileError

MAX_SHOWN_CHARS = 60
"""Longest excerpt of a bad line quoted in an error."""
TEXT_ENCODING = "utf-8-sig"
"""UTF-8 with an optional byte-order mark (see the module docstring)."""


class Record(dict[str, Any]):
    """A JSON object from a data file that remembers where it came from ('path:line') and the file's
    format, so a field helper called without `where` still names the file and line in its error."""

    where: str | None = None
    fmt: str | None = None


def require_file(data: str | Path | None, task: str, fmt: str, *, allow_dir: bool = False) -> Path:
    """The data path as an existing file (or directory if allowed), else a one-line DataFileError."""
    if data is None or str(data) == "":
        raise DataFileError(f"task '{task}' needs --data PATH: a {fmt} file")
    path = Path(data).expanduser()
    if not path.exists():
        raise DataFileError(f"{path}: no such file (task '{task}' reads a {fmt} file)")
    if path.is_dir() and not allow_dir:
        raise DataFileError(f"{path}: is a directory, expected a {fmt} file")
    return path


def _excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "..."


def read_jsonl(path: Path, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; a line that is not a JSON object fails."""
    try:
        handle = path.open(encoding=TEXT_ENCODING)
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc.strerror}); expected a {fmt} file") from exc
    with handle:
        try:
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataFileError(
                        f"{path}:{lineno}: not valid JSON ({exc.msg}: {_excerpt(line)!r}); "
                        f"expected one {fmt} object per line"
                    ) from exc
                if not isinstance(obj, dict):
                    raise DataFileError(f"{path}:{lineno}: expected a JSON object ({fmt}), got {type(obj).__name__}")
                record = Record(obj)
                record.where, record.fmt = f"{path}:{lineno}", fmt
                yield lineno, record
        except UnicodeDecodeError as exc:
            raise DataFileError(f"{path}: not UTF-8 text; expected a {fmt} file") from exc


def read_json(path: Path, fmt: str) -> Any:
    """The whole file as JSON; a syntax error names its line and column."""
    try:
        text = path.read_text(encoding=TEXT_ENCODING)
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: not UTF-8 text; expected {fmt}") from exc
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc.strerror}); expected {fmt}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(
            f"{path}:{exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno}); expected {fmt}"
        ) from exc


def field_str(record: dict[str, Any], field: str, where: str, fmt: str) -> str:
    """A required text field (every loader's question or problem): a missing, blank or non-text value is a
    malformed record, refused like a missing field. A blank question was accepted and sent to the model as
    it was, where `rolegraph run` refuses an empty question; an item has nothing to ask without one."""
    value = record.get(field)
    if value is None:
        raise DataFileError(f"{where}: missing field '{field}'; expected {fmt}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise DataFileError(f"{where}: field '{field}' should be text, got {type(value).__name__}; expected {fmt}")
    if not value.strip():
        raise DataFileError(f"{where}: field '{field}' is empty; expected {fmt} with a non-empty '{field}'")
    return value


def optional_str(record: dict[str, Any], field: str, where: str | None = None, fmt: str | None = None) -> str | None:
    """A field that may be absent or blank (None); numbers become text. Any other type (true, a list,
    an object) is a malformed record, not a missing value: silently skipping it would hide the
    mistake behind a later 'no items'. `where`/`fmt` default to what a `Record` remembers."""
    value = record.get(field)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    where = where or getattr(record, "where", None) or "a record"
    fmt = fmt or getattr(record, "fmt", None)
    expected = f"; expected {fmt}" if fmt else ""
    raise DataFileError(
        f"{where}: field '{field}' should be text or a number, got {type(value).__name__} {_excerpt(json.dumps(value))}"
        f"{expected}"
    )
