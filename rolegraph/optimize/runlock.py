"""The lock a process holds on a run directory while it writes there (a search, `eval --add-to`, `route fit`)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from rolegraph.errors import SearchError
from rolegraph.fileio import NEW_FILE_MODE

LOCK_NAME = ".rolegraph.lock"  # flock'ed by the one process writing in the directory (`RunLock`)


class RunLock:
    """The run directory held by one process writing to it: a search (a new one, or `--resume`) for as long as it
    runs, and after it `eval --add-to`, `route fit` and the pairing of its front (`rebuild.hold_run`).

    Two processes resuming the same run would both run to the end, and with real endpoints both pay; the
    store's transactions keep each checkpoint whole but not the two searches apart. `flock` on a file in the
    directory: the kernel drops it when the holder exits however it ends (a kill -9 leaves no stale lock),
    and a second open file, in this process or another, is refused. The holder's pid is written into the
    file only to name it in the refusal."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def take(cls, run_dir: str | Path) -> RunLock:
        """Hold `run_dir` (which must exist) or refuse with one line naming the process that holds it."""
        path = Path(run_dir).expanduser() / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, NEW_FILE_MODE)
        except OSError as exc:
            raise SearchError(f"{run_dir}: cannot lock the run directory ({exc.strerror or exc})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            pid = f" (pid {holder})" if holder.isdigit() else ""
            raise SearchError(
                f"run directory {run_dir} is in use by another rolegraph process{pid}: wait for it to end"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return cls(path, fd)

    def release(self) -> None:
        """Let another process have the directory (closing the file drops the lock; the file stays)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
