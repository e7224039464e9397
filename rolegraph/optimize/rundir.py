"""A search's run directory and its SQLite store (`run.sqlite`): config, checkpoints, trace.

Each checkpoint is one transaction: the optimizer's state, the new trace records, new feedback
and new graphs land together or not at all, so a SIGKILL at any instant leaves either the
previous checkpoint or the new one. Files beside the store (best_graph.yaml, trace.json,
report.md, PNGs) are renders of it and are written atomically (temp file + rename).

The store also records what the run read from disk (`inputs`: the data file and the pool file, by absolute
path and sha256 of their content, the pool also by its models: `input_files.py`), because a resumed search,
`eval --add-to` and `route fit` read those files again and pair what they score with outcomes stored earlier:
scores of edited items (or of models a pool file now defines otherwise) must never be paired with the old ones.
Beside the checkpoint it keeps what the run's sessions spent so far, which a session killed between
checkpoints must not lose: the dollars paid (`paid_usd`) and the requests abandoned at a timeout (`timed_out`).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rolegraph import sqlite_io
from rolegraph.errors import SearchError, one_line
from rolegraph.graphs.checked import validation_lines
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.final import FinalChoice
from rolegraph.optimize.input_files import INPUT_KINDS, INPUTS_KEY, changed_input, fingerprint_inputs
from rolegraph.optimize.runlock import LOCK_NAME, RunLock
from rolegraph.optimize.trace import EvalRecord, FeedbackRecord, IterationRecord

STORE_NAME = "run.sqlite"
CREATING = f".{STORE_NAME}.creating"  # the store while RunStore.create builds it
SIDE_FILES = ("-wal", "-shm", "-journal")  # SQLite's files beside a store, named after it
RUN_KIND = "rolegraph-search"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0  # one process writes a run store (`RunLock`): a reader beside it waits at most this
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), iteration INTEGER NOT NULL,"
    " phase TEXT NOT NULL, state TEXT NOT NULL, updated REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY, iteration INTEGER NOT NULL, phase TEXT NOT NULL,"
    " record TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS feedback (seq INTEGER PRIMARY KEY, iteration INTEGER NOT NULL, record TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS graphs (hash TEXT PRIMARY KEY, spec TEXT NOT NULL)",
)

ROWS = {"records": "trace record", "feedback": "feedback record", "graphs": "graph"}  # what a row is in messages


class CheckpointState(BaseModel):
    """What every checkpoint's state holds (`checkpoint.save_checkpoint`), checked when the store opens: a state of
    the wrong shape stopped a resume on a KeyError. The optimizer's own part only it knows (`checkpoint.restore`)."""

    model_config = ConfigDict(extra="allow")
    optimizer: dict[str, Any] = {}
    iterations: list[IterationRecord]
    final: FinalChoice | None = None
    paid_usd: float | None = None
    timed_out_attempts: int | None = Field(default=None, ge=0)  # absent in checkpoints from before they were kept
    timed_out_usd: float | None = Field(default=None, ge=0.0)


SHAPES: dict[str, type[BaseModel]] = {"records": EvalRecord, "feedback": FeedbackRecord, "graphs": GraphSpec}
"""The model each table's rows must fit: its readers (`load_run`, `restore`, the warm start) build it from them."""
RESUME_IT = "resume it with `{}`, or choose another --out"
STOP_KEY = "stop"  # meta row: the dollar cap's stop, {"message", "checkpoint"} (`RunStore.record_cap_stop`)
TIMED_OUT_KEY = "timed_out"  # meta row: {"attempts", "usd"}, the run's requests abandoned at a timeout (`timed_out`)


def resume_command(run_dir: str | Path) -> str:
    """`rolegraph optimize --resume RUN`, plus `--max-dollars HIGHER` when the run's dollar cap stopped it
    (`RunStore.cap_stop`): without a higher cap the resume stops again at once. Every resume hint uses this."""
    try:
        with closing(RunStore.open(run_dir)) as store:
            capped = store.cap_stop() is not None
    except SearchError:  # not a run (yet), or a damaged one: the plain command, whose own error says why
        capped = False
    return f"rolegraph optimize --resume {run_dir}" + (" --max-dollars HIGHER" if capped else "")


def refuse_out(run_dir: Path, *, stored: bool = True) -> None:
    """`RunStore.create`'s refusals of an --out, without its lock: the demo checks before its banner, in these words."""
    names = [p.name for p in run_dir.iterdir()] if run_dir.is_dir() else []
    above = next((p for p in run_dir.parents if p.exists()), None)  # where it would be made
    if not run_dir.exists() and above is not None and not above.is_dir():
        raise SearchError(f"{run_dir}: cannot create the run directory ({above} is not a directory)")
    own = STORE_NAME in names or all(n.startswith((STORE_NAME, LOCK_NAME, CREATING)) for n in names)  # or empty
    if run_dir.exists() and not (run_dir.is_dir() and own):  # a start leaves only its own files, even a killed one
        raise SearchError(f"{run_dir} exists and is not an empty directory: choose another --out")
    if stored and STORE_NAME in names:
        raise SearchError(f"{run_dir} already holds a search run: " + RESUME_IT.format(resume_command(run_dir)))


class RunStore:
    """The SQLite store of one run directory. Use `create` for a new run, `open` to resume one."""

    def __init__(self, run_dir: Path, db: sqlite3.Connection):
        self.run_dir = run_dir
        self.path = run_dir / STORE_NAME
        self._db = db
        self.lock: RunLock | None = None  # held for a caller of `create(hold=True)`

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        return sqlite_io.connect(path, timeout_s=BUSY_TIMEOUT_S, synchronous="NORMAL")

    @classmethod
    def create(cls, run_dir: str | Path, config: dict[str, Any], *, hold: bool = False) -> RunStore:
        """A new run's store in `run_dir` (new or empty), made holding it (`RunLock`; kept as `store.lock` with `hold`)
        before anything in it is judged or removed: a search starting or running there is named ("in use by ... pid N"),
        not taken for a run to resume, and two starts never delete each other's half-built store (`CREATING*`)."""
        run_dir, lock, store = Path(run_dir).expanduser(), None, None
        refuse_out(run_dir, stored=False)  # a run's own store is named "resume it" below, under the lock
        made = not run_dir.exists()  # removed again if no store can be built in it
        try:  # built under a temporary name and renamed once whole: a kill never leaves a half-made store
            run_dir.mkdir(parents=True, exist_ok=True)
            lock = RunLock.take(run_dir)
            if (run_dir / STORE_NAME).exists():
                raise SearchError(f"{run_dir} already holds a search run: " + RESUME_IT.format(resume_command(run_dir)))
            # a create killed half-way; a deleted store's side files (SQLite replays a stale -wal into a new store)
            for left in [*run_dir.glob(f"{CREATING}*"), *(run_dir / f"{STORE_NAME}{end}" for end in SIDE_FILES)]:
                left.unlink(missing_ok=True)
            with (db := cls._connect(run_dir / CREATING)):  # commits, and rolls back on an error
                db.execute("BEGIN")
                for stmt in SCHEMA:
                    db.execute(stmt)
                inputs = json.dumps(fingerprint_inputs(config), sort_keys=True)
                rows = {"kind": RUN_KIND, "version": str(SCHEMA_VERSION), "config": json.dumps(config, sort_keys=True)}
                rows |= {"created": str(time.time()), INPUTS_KEY: inputs}
                db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows.items())
            db.close()
            os.replace(run_dir / CREATING, run_dir / STORE_NAME)
            store = cls(run_dir, cls._connect(run_dir / STORE_NAME))
            store.lock = lock if hold else None
            return store
        except (OSError, sqlite3.Error) as exc:
            raise SearchError(f"{run_dir}: cannot create the run directory ({exc})") from None
        finally:  # let go unless handed to the caller
            if store is None and lock is not None:  # nothing built: leave no lock file (unlinked while still held)
                with suppress(OSError):
                    for left in [lock.path, *run_dir.glob(f"{CREATING}*")]:
                        left.unlink()
                    if made:
                        run_dir.rmdir()
            if lock is not None and (store is None or store.lock is None):
                lock.release()

    @classmethod
    def open(cls, run_dir: str | Path) -> RunStore:
        """An existing run; a directory that is not one is refused without touching anything."""
        run_dir = Path(run_dir).expanduser()
        path = run_dir / STORE_NAME
        if run_dir.exists() and not run_dir.is_dir():
            raise SearchError(f"{run_dir} is a file, not a run directory")
        if not run_dir.is_dir():
            raise SearchError(f"{run_dir}: no such run directory")
        if not path.is_file():
            raise SearchError(f"{run_dir} is not a search run directory (no {STORE_NAME})")
        not_a_store = SearchError(f"{run_dir}: {STORE_NAME} is not a search run store")
        try:  # WAL only once it is known to be a run store: a foreign file is left as it was
            db = sqlite_io.connect(path, mode="rw", timeout_s=BUSY_TIMEOUT_S, wal=False)
        except sqlite3.Error:
            raise not_a_store from None
        try:
            kind = db.execute("SELECT value FROM meta WHERE key = 'kind'").fetchone()
        except sqlite3.Error:  # not SQLite, or no meta table
            kind = None
        if not kind or kind[0] != RUN_KIND:
            db.close()  # on every refusal: a caller that tries many directories must not run out of descriptors
            raise not_a_store
        store = cls(run_dir, db)
        try:
            store._verify()
        except BaseException:
            db.close()
            raise
        sqlite_io.use_wal(db, synchronous="NORMAL")  # as `create`'s: a resumed run writes as a new one does
        return store

    def _verify(self) -> None:
        """Refuse, in one line naming what is damaged, a store this rolegraph cannot read whole: one from a newer
        schema (its rows may mean something else), or one with a missing config or stored JSON that does not
        decode or does not fit its model (`SHAPES`, `CheckpointState`). Checked here, once for every command that
        opens a run, so none stops on a traceback half-way, or succeeds without noticing that part of the run is
        lost (a corrupt record is never skipped)."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            try:
                version = int(row[0])
            except (TypeError, ValueError):  # no row (TypeError), or not a number
                raise self._damaged("its schema version is missing or unreadable") from None
            if version > SCHEMA_VERSION:  # no run store schema before v1 exists, so nothing older to migrate
                raise SearchError(
                    f"{self.path}: run store schema v{version} is newer than this rolegraph (v{SCHEMA_VERSION}); "
                    "upgrade rolegraph"
                )
            self.config(check_inputs=False)
            self.inputs()
            self.paid_usd()
            self.timed_out()
            self.checkpoint()
            self.cap_stop()
            for table in ROWS:  # every row read whole: valid JSON of the wrong shape is as lost as a cut value
                list(self._rows(table))
        except sqlite3.DatabaseError as exc:  # a missing table, a malformed page, a lock held past the busy timeout
            raise SearchError(
                f"{self.path} cannot be read ({exc}): it is damaged or in use by another process"
            ) from None

    def _rows(self, table: str, where: str = "") -> Iterator[tuple[Any, dict[str, Any]]]:
        """(key, decoded JSON object) of each row of `table` (one of ROWS) that matches `where` (its column is `v`),
        each checked to fit its model (`SHAPES`)."""
        key, column = ("hash", "spec") if table == "graphs" else ("seq", "record")
        for k, text in self._db.execute(f"SELECT {key}, v FROM (SELECT {key}, {column} AS v FROM {table}) {where}"):
            yield k, self._decode(text, f"{ROWS[table]} {k}", SHAPES[table])

    def _damaged(self, what: str) -> SearchError:
        return SearchError(
            f"{self.path} is damaged: {what}; restore the run directory from a copy, or start a new search"
        )

    def _decode(self, text: object, what: str, shape: type[BaseModel] | None = None) -> dict[str, Any]:
        """A stored JSON object, or the one-line `_damaged` error naming `what` (NULL, a cut value, a non-object,
        or with `shape` an object that does not fit that model, naming its first problem: JSON of the wrong shape,
        `{}` for a trace record, made every reader fail on a pydantic dump or a KeyError, each in its own way)."""
        try:
            value = json.loads(text)  # type: ignore[arg-type]  # whatever the row holds; a non-string is refused
        except (TypeError, ValueError):  # JSONDecodeError is a ValueError
            value = None
        if not isinstance(value, dict):
            raise self._damaged(f"{what} is unreadable")
        if shape is None:
            return value
        try:
            shape.model_validate(value)
        except ValidationError as exc:
            problems = validation_lines(exc, shape)
            more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
            raise self._damaged(f"{what} is unreadable ({one_line(problems[0], 200)}{more})") from None
        return value

    def close(self) -> None:
        self._db.close()

    # --- reading ------------------------------------------------------------------------------------
    def config(self, *, check_inputs: bool = True) -> dict[str, Any]:
        """The run's settings. Everything that rebuilds the run from them (resume, `eval --add-to`, `route fit`,
        the report) reads them here, so by default a data or pool file that changed since the run read it is a
        one-line `SearchError` (see `check_inputs`); a warm start, which only compares, passes False."""
        if check_inputs:
            self.check_inputs()
        row = self._db.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
        if row is None:
            raise self._damaged("its config is missing")
        return self._decode(row[0], "its config")

    def inputs(self) -> dict[str, dict[str, Any]] | None:
        """The data and pool files the run read (absolute path, sha256; the pool's models: `input_files`); None for
        a run from before they were recorded (their content is then unknown)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (INPUTS_KEY,)).fetchone()
        return self._decode(row[0], "its record of the files it read") if row else None

    def check_inputs(self, kinds: tuple[str, ...] = tuple(INPUT_KINDS)) -> None:
        """Refuse (one line) to go on with a run whose data or pool file changed or went away since it read
        them: new scores would be paired with outcomes of other items or other models. Unknown (no record) passes,
        and so, said in one warning, does a pool file changed only in its request settings (`changed_input`).
        `kinds`: only those inputs (a reader of stored outcomes needs the pool, not the data)."""
        recorded = self.inputs()
        for kind in kinds:
            problem = changed_input(recorded, kind)
            if problem is not None:
                raise SearchError(
                    f"{self.run_dir}: {problem}; its stored outcomes belong to the old content: restore the file, "
                    "or start a new search"
                )

    def checkpoint(self) -> tuple[int, str, dict[str, Any]] | None:
        row = self._db.execute("SELECT iteration, phase, state FROM checkpoint WHERE id = 1").fetchone()
        if row is None:
            return None
        if not isinstance(row[0], int):
            raise self._damaged("its checkpoint's iteration is unreadable")
        return row[0], str(row[1]), self._decode(row[2], "its checkpoint", CheckpointState)

    def records(self) -> list[dict]:
        return [r for _, r in self._rows("records", "ORDER BY seq")]

    def feedback(self) -> list[dict]:
        return [f for _, f in self._rows("feedback", "ORDER BY seq")]

    def graphs(self) -> dict[str, dict]:
        return dict(self._rows("graphs"))

    def paid_usd(self) -> float:
        """Dollars this run's paid calls cost in all its sessions so far (0 for runs from before it was kept)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'paid_usd'").fetchone()
        try:
            return float(row[0]) if row else 0.0
        except (TypeError, ValueError):
            raise self._damaged("its record of dollars paid is unreadable") from None

    def timed_out(self) -> tuple[int, float]:
        """(attempts, worst-case dollars) of the requests this run's sessions abandoned at their `timeout_s` so far,
        as last stored (`set_timed_out`); (0, 0.0) for a run from before they were kept."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (TIMED_OUT_KEY,)).fetchone()
        if row is None:
            return 0, 0.0
        value = self._decode(row[0], "its record of requests timed out")
        attempts, usd = value.get("attempts"), value.get("usd")
        if isinstance(attempts, bool) or isinstance(usd, bool):  # JSON true is no count
            attempts = usd = None
        if not isinstance(attempts, int) or not isinstance(usd, int | float) or attempts < 0 or not 0 <= usd < math.inf:
            raise self._damaged("its record of requests timed out is unreadable")
        return attempts, float(usd)

    def set_timed_out(self, attempts: int, usd: float) -> None:
        """Kept apart from checkpoints, as `set_paid_usd` is: a request abandoned after the last one was sent too."""
        value = json.dumps({"attempts": int(attempts), "usd": float(usd)})
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (TIMED_OUT_KEY, value))

    def cap_stop(self) -> str | None:
        """Why the dollar cap stopped the run (`record_cap_stop`) while that still holds: None when none was recorded
        (as in every store from before), or when a checkpoint was saved or a new cap set since."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (STOP_KEY,)).fetchone()
        if row is None:
            return None
        stop = self._decode(row[0], "its record of the dollar cap's stop")
        return str(stop.get("message")) if stop.get("checkpoint") == self._checkpoint_time() else None

    @classmethod
    def record_cap_stop(cls, run_dir: str | Path, message: str) -> None:
        """The dollar cap stopped the run (`message`: the stop's own line): its report and every resume hint
        (`resume_command`) then name the cap, since a resume without a higher --max-dollars stops again at once."""
        with closing(cls.open(run_dir)) as store, store._db:
            stop = json.dumps({"message": message, "checkpoint": store._checkpoint_time()})
            store._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (STOP_KEY, stop))

    def _checkpoint_time(self) -> float | None:
        row = self._db.execute("SELECT updated FROM checkpoint WHERE id = 1").fetchone()
        return row[0] if row else None

    def set_max_dollars(self, dollars: float | None) -> None:
        """A new dollar cap for the rest of the run (`--resume RUN --max-dollars D`), kept for later resumes."""
        config = self.config()
        config["search"]["max_dollars"] = dollars
        with self._db:
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'config'", (json.dumps(config, sort_keys=True),))
            self._db.execute("DELETE FROM meta WHERE key = ?", (STOP_KEY,))  # the old cap's stop no longer holds

    def set_paid_usd(self, dollars: float) -> None:
        """Kept apart from checkpoints: calls paid in a step that never reached its checkpoint were paid too."""
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('paid_usd', ?)", (repr(float(dollars)),))

    # --- writing ------------------------------------------------------------------------------------
    def save_checkpoint(
        self,
        iteration: int,
        phase: str,
        state: dict[str, Any],
        records: list[dict],
        feedback: list[dict],
        graphs: dict[str, dict],
    ) -> None:
        """Everything in one transaction. `records`/`feedback` are the full lists: only new rows are written."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            have = self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
            self._db.executemany(
                "INSERT INTO records (seq, iteration, phase, record) VALUES (?, ?, ?, ?)",
                [(r["seq"], r["iteration"], r["phase"], json.dumps(r)) for r in records[have:]],
            )
            have_fb = self._db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
            self._db.executemany(
                "INSERT INTO feedback (seq, iteration, record) VALUES (?, ?, ?)",
                [(k, f["iteration"], json.dumps(f)) for k, f in enumerate(feedback) if k >= have_fb],
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO graphs (hash, spec) VALUES (?, ?)",
                [(h, json.dumps(s)) for h, s in graphs.items()],
            )
            self._db.execute(
                "INSERT OR REPLACE INTO checkpoint (id, iteration, phase, state, updated) VALUES (1, ?, ?, ?, ?)",
                (iteration, phase, json.dumps(state), time.time()),
            )
