"""A progress bar for evaluations: rich on a terminal, nothing otherwise.

The bar is created only when it will be seen, so the optimizer's thousands of small
evaluations pay nothing for it. "A terminal" means one that can redraw a line in place: on a dumb
terminal (TERM=dumb: an Emacs shell, some CI logs) rich cannot draw the bar and leaves a blank line
where each one would have been, so there is no bar there, as for output to a file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

OnItem = Callable[[int, int], None]
"""Called after each item with (done, total)."""


def wants_progress(progress: bool | None) -> bool:
    """`progress=None` means auto: a bar only when stderr is a terminal."""
    if progress is not None:
        return progress
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def bar_console(console: Console | None = None) -> Console | None:
    """The console a live bar may draw on (`console`, else stderr's), or None where it cannot redraw in place:
    not a terminal, or a dumb one (rich's `is_interactive`; $TTY_INTERACTIVE overrides it). Asked by every
    progress display (this module's and the search's, `optimize.progress`), so they agree."""
    from rich.console import Console

    console = console if console is not None else Console(stderr=True)
    return console if console.is_interactive else None


class ItemProgress:
    """Context manager whose `advance(done, total)` moves a rich bar (if shown and drawable, see `bar_console`)
    and calls `on_item`. `console` is where the bar goes (default stderr)."""

    def __init__(
        self, total: int, label: str, *, show: bool, on_item: OnItem | None = None, console: Console | None = None
    ):
        self.total = total
        self.label = label
        self.show = show
        self.on_item = on_item
        self.console = console
        self._bar: Progress | None = None
        self._task_id: TaskID | None = None

    def __enter__(self) -> ItemProgress:
        console = bar_console(self.console) if self.show and self.total else None
        if console is not None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description}", markup=False),  # a graph's name or --label: `[/]` is text
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
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
