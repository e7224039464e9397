"""Opening the package's SQLite files, written once: the run store, the results store, the response cache, the
call timings and the search indexes each opened their file by hand, with their own copies of the busy timeout
and the WAL pragmas, and three of them built a `file:` URI by hand.

It sits at the package root, beside `errors` and `settings`, so every layer may use it; it imports nothing of
the package. Every connection is in autocommit mode (`isolation_level=None`): its users open their transactions
themselves (`BEGIN`, `BEGIN IMMEDIATE`), and Python's implicit ones would hold write locks nobody asked for.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal

SHARED_BUSY_TIMEOUT_S = 60.0
"""How long a writer waits for another process's lock on a file that several processes write at once (the results
store, the response cache, the call timings): parallel searches sharing one file wait rather than fail."""
SQLITE_DEFAULT_TIMEOUT_S = 5.0
"""Python's own default busy timeout, kept by the connections that only read (a refused foreign file, an index)."""

UriMode = Literal["ro", "rw"]
Synchronous = Literal["OFF", "NORMAL", "FULL"]


def file_uri(path: str | Path, mode: UriMode) -> str:
    """A `file:` URI for `path` opened in `mode` ("ro": read only; "rw": read and write, never create).

    Built by `as_uri` (percent-quoted): a `#`, `?` or `%` in the path (a ROLEGRAPH_HOME such as `~/a#b`) spliced
    into `file:...?mode=ro` cut the path short, so SQLite opened (or created) another file."""
    return f"{Path(path).resolve().as_uri()}?mode={mode}"


def use_wal(db: sqlite3.Connection, *, synchronous: Synchronous | None = None) -> None:
    """Switch `db`'s file to WAL (readers never block the writer, nor it them) and, when given, set how often it
    syncs (NORMAL: a power cut may lose the last commits but never corrupts a WAL file). Apart from `connect` for
    a caller that must look at a file before changing it (the run store refuses a foreign file untouched)."""
    db.execute("PRAGMA journal_mode = WAL")
    if synchronous is not None:
        db.execute(f"PRAGMA synchronous = {synchronous}")


def connect(
    path: str | Path,
    *,
    mode: UriMode | None = None,
    timeout_s: float = SHARED_BUSY_TIMEOUT_S,
    wal: bool = True,
    synchronous: Synchronous | None = None,
    check_same_thread: bool = True,
) -> sqlite3.Connection:
    """A connection to the SQLite file `path`, in autocommit mode.

    `mode`: None opens the file, creating it when missing; "ro" or "rw" open it through `file_uri`, never creating
    it ("ro" never writes). `timeout_s`: how long a statement waits for another connection's lock (the busy
    timeout; Python's `timeout` sets the same handler as `PRAGMA busy_timeout`). `wal` and `synchronous` (applied
    with `wal` only): see `use_wal`. `check_same_thread=False`: a connection its owner guards with a lock across
    threads."""
    if mode == "ro" and wal:
        raise ValueError("a read-only connection cannot switch its file to WAL: pass wal=False")
    target = file_uri(path, mode) if mode is not None else path
    db = sqlite3.connect(
        target, uri=mode is not None, timeout=timeout_s, isolation_level=None, check_same_thread=check_same_thread
    )
    if wal:
        try:
            use_wal(db, synchronous=synchronous)
        except BaseException:
            db.close()
            raise
    return db
