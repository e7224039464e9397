"""Reading task data files with one-line errors that name the path, the line and what was expected.

Loaders describe their format once (`fmt`, e.g. 'JSONL {question, answer}') and every error a
user's file can cause repeats it, so the message alone says how to fix the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rolegraph.errors import DataFileError

MAX_SHOWN_CHARS = 60
"""Longest excerpt of a bad line quoted in an error."""


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
        handle = path.open(encoding="utf-8")
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
                yield lineno, obj
        except UnicodeDecodeError as exc:
            raise DataFileError(f"{path}: not UTF-8 text; expected a {fmt} file") from exc


def read_json(path: Path, fmt: str) -> Any:
    """The whole file as JSON; a syntax error names its line and column."""
    try:
        text = path.read_text(encoding="utf-8")
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
    """A required text field: a missing or non-text value is a malformed record."""
    value = record.get(field)
    if value is None:
        raise DataFileError(f"{where}: missing field '{field}'; expected {fmt}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise DataFileError(f"{where}: field '{field}' should be text, got {type(value).__name__}; expected {fmt}")
    return value


def optional_str(record: dict[str, Any], field: str) -> str | None:
    """A field that may be absent: numbers become text, blanks and other types become None."""
    value = record.get(field)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None
