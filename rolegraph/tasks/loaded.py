"""`LoadedTask`: a task whose items are loaded once, at construction, so a bad file fails early.

Items whose gold is missing or blank are kept out of `all_items()` and counted in `skipped`
(their ids in `skipped_ids`): an item nobody can grade must never be scored as wrong.

A task read from a file (it has a `path`) with no usable item at all is a DataFileError naming
the file, the first record without a gold and the expected format (`data_format`): otherwise the
user only learns much later that the task 'has no items', with no hint why.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rolegraph.errors import DataFileError
from rolegraph.items import Item
from rolegraph.tasks.base import Task

GENERIC_EXPECTED = "records with a non-blank gold answer"
"""What a file task expects when its class names no `data_format`."""


class LoadedTask(Task):
    """Subclasses build their items, then call `_set_items` once in `__init__`."""

    _items: tuple[Item, ...] = ()
    skipped_ids: tuple[str, ...] = ()
    data_format: str | None = None
    """The file format, as quoted in errors (e.g. 'JSONL {question, answer}')."""

    def _set_items(self, items: Iterable[Item]) -> None:
        usable: list[Item] = []
        skipped: list[str] = []
        first_skipped: Item | None = None
        seen: set[str] = set()
        for item in items:
            if item.id in seen:  # a file with repeated ids: keep every record, make ids unique
                item = item.model_copy(update={"id": _fresh_id(item.id, seen)})
            seen.add(item.id)
            if item.gold is None or not item.gold.strip():
                skipped.append(item.id)
                first_skipped = first_skipped or item
            else:
                usable.append(item)
        self._items = tuple(usable)
        self.skipped_ids = tuple(skipped)
        self.skipped = len(skipped)
        path = getattr(self, "path", None)  # file tasks set `path` (typed as they need) before loading
        if not usable and path is not None:
            raise DataFileError(self._nothing_usable(path, first_skipped, len(skipped)))

    def _nothing_usable(self, path: Path, first: Item | None, count: int) -> str:
        expected = f"expected {self.data_format or GENERIC_EXPECTED}"
        if first is None:
            return f"{path}: no records; {expected}"
        return (
            f"{_where(first, path)}: task '{self.name}' found no usable record (none of {count} has a usable "
            f"gold answer; this is the first); {expected}"
        )

    def all_items(self) -> list[Item]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {len(self._items)} items, {self.skipped} skipped>"


def _where(item: Item, path: Path) -> str:
    """'path:line' of an item's record, from the `where` or `line` its loader kept in metadata."""
    where = item.metadata.get("where")
    if where:
        return str(where)
    line = item.metadata.get("line")
    return f"{path}:{line}" if line is not None else f"{path} (item {item.id})"


def _fresh_id(item_id: str, seen: set[str]) -> str:
    copy = 2
    while f"{item_id}#{copy}" in seen:
        copy += 1
    return f"{item_id}#{copy}"
