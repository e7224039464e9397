"""Where a new search run goes when the user names no --out: a fresh, empty directory under ./runs, made atomically
so two searches started in the same second never share one, and removed again if the command fails before the
search writes its store there (`rundir.RunStore` is what a run directory holds)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from rolegraph.errors import SearchError


def default_run_dir(task: str, optimizer: str, base: Path | None = None) -> Path:
    """A new, empty run directory `<base>/<time>-<task>-<optimizer>` (base: ./runs), made here, by an atomic
    mkdir, so two searches started in the same second get one each: a name already taken (by a search still
    starting, too) gets `-2`, `-3`, ... Only naming it sent the second search into the first one's directory,
    where it was told to resume a run that was not its own."""
    name, k = f"{time.strftime('%Y%m%d-%H%M%S')}-{task}-{optimizer}", 1
    while True:
        path = (base or Path("runs")) / (name if k == 1 else f"{name}-{k}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            k += 1
        except OSError as exc:
            raise SearchError(f"{path}: cannot create the run directory ({exc.strerror or exc})") from None


@contextmanager
def new_run_dir(out: Path | None, task: str, optimizer: str) -> Iterator[Path]:
    """`out`, or a new `default_run_dir` that is removed again, while still empty, when the command fails before
    the search writes its store there: a refused start leaves no directory behind."""
    path = out or default_run_dir(task, optimizer)
    try:
        yield path
    except BaseException:
        if out is None:
            with suppress(OSError):  # not empty: the search's files stay
                path.rmdir()
        raise
