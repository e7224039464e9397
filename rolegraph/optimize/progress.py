"""The search's progress line on a terminal: iteration, evaluations spent, best objective so far."""

from __future__ import annotations


class SearchProgress:
    """A rich progress line (iteration, evaluations spent, best so far) on a terminal only."""

    def __init__(self, show: bool, total: int | None, name: str):
        self._progress = None
        if show:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
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
