"""A progress bar for evaluations: rich on a terminal, nothing otherwise.

The bar is created only when it will be seen, so the optimizer's thousands of small
evaluations pay nothing for it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

OnItem = Callable[[int, int], None]
"""Called after each item with (done, total)."""


def wants_progress(progress: bool | None) -> bool:
    """`progress=None` means auto: a bar only when stderr is a terminal."""
    if progress is not None:
        return progress
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


class ItemProgress:
    """Context manager whose `advance(done, total)` moves a rich bar (if shown) and calls `on_item`."""

    def __init__(self, total: int, label: str, *, show: bool, on_item: OnItem | None = None):
        self.total = total
        self.label = label
        self.show = show
        self.on_item = on_item
        self._bar: Progress | None = None
        self._task_id: TaskID | None = None

    def __enter__(self) -> ItemProgress:
        if self.show and self.total:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
            self._task_id = self._bar.add_task(self.label, total=self.total)
        return self

    def advance(self, done: int) -> None:
        if self._bar is not None and self._task_id is not None:
            self._bar.update(self._task_id, completed=done)
        if self.on_item is not None:
            self.on_item(done, self.total)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
