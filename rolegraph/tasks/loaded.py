"""`LoadedTask`: a task whose items are loaded once, at construction, so a bad file fails early.

Items whose gold is missing or blank are kept out of `all_items()` and counted in `skipped`
(their ids in `skipped_ids`): an item nobody can grade must never be scored as wrong.
"""

from __future__ import annotations

from collections.abc import Iterable

from rolegraph.items import Item
from rolegraph.tasks.base import Task


class LoadedTask(Task):
    """Subclasses build their items, then call `_set_items` once in `__init__`."""

    _items: tuple[Item, ...] = ()
    skipped_ids: tuple[str, ...] = ()

    def _set_items(self, items: Iterable[Item]) -> None:
        usable: list[Item] = []
        skipped: list[str] = []
        seen: set[str] = set()
        for item in items:
            if item.id in seen:  # a file with repeated ids: keep every record, make ids unique
                item = item.model_copy(update={"id": _fresh_id(item.id, seen)})
            seen.add(item.id)
            if item.gold is None or not item.gold.strip():
                skipped.append(item.id)
            else:
                usable.append(item)
        self._items = tuple(usable)
        self.skipped_ids = tuple(skipped)
        self.skipped = len(skipped)

    def all_items(self) -> list[Item]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {len(self._items)} items, {self.skipped} skipped>"


def _fresh_id(item_id: str, seen: set[str]) -> str:
    copy = 2
    while f"{item_id}#{copy}" in seen:
        copy += 1
    return f"{item_id}#{copy}"
