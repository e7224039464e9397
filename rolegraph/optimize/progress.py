"""The search's progress line on a terminal: iteration, evaluations spent, best objective so far."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rolegraph.evaluate.progress import bar_console

if TYPE_CHECKING:
    from rich.console import Console


class SearchProgress:
    """A rich progress line (iteration, evaluations spent, best so far) on a terminal only: one that can redraw
    in place (`evaluate.progress.bar_console`; a dumb terminal would get a blank line instead). `console` is
    where it goes (default stderr)."""

    def __init__(self, show: bool, total: int | None, name: str, console: Console | None = None):
        self._progress = None
        drawable = bar_console(console) if show else None
        if drawable is not None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}", markup=False),  # a name is text, never markup
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                console=drawable,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(name, total=total, info="")

    def update(self, iteration: int, spent: int, best: float | None) -> None:
        if self._progress is not None:
            info = f"evaluations {spent}  best {best:.3f}" if best is not None else f"evaluations {spent}"
            self._progress.update(self._task, completed=iteration, info=info)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
