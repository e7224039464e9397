"""Measured call times of real models, kept beside the response cache, and the rates fitted to them.

Latency budgets, the joint objective and the spending estimate before a search need a real model's
time per call *before* a graph of it runs. The simulator's speed formula is for sim models only; a
real endpoint's speed depends on its hardware, its load and its server, so it is measured: the hub
records every paid call of a non-sim model (prompt tokens, output tokens, seconds) in
`$ROLEGRAPH_HOME/timings.sqlite`, and `rates` fits

    seconds = overhead + s_per_prompt_token * prompt tokens + s_per_output_token * output tokens

by least squares over the model's latest calls (a coefficient the data would make negative is
dropped, so a rate is never negative). A model's calls are keyed by its id, endpoint and served
name: the same id pointed at another server starts afresh.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from rolegraph import sqlite_io
from rolegraph.chat.spec import ModelSpec, url_identity
from rolegraph.errors import StateFileError

TIMINGS_FILE = "timings.sqlite"
MIN_CALLS = 3
"""Calls needed before rates are fitted (three coefficients)."""
KEEP_CALLS = 500
"""Calls kept per model: the latest, so the rates follow the endpoint as it is now."""
PRUNE_EVERY = 100
"""Recorded calls between prunings of a model's old rows."""
FLUSH_EVERY = 64
"""Calls kept in memory before they are written in one transaction. Why buffer: `record` runs on the event
loop after every paid call, and one SQLite transaction per call (0.1-0.4 ms) was the largest new cost in
the client's hot path (`python -m benchmarks throughput`, CPU-bound). Reads and `close` flush first, so
nothing recorded is missed; a process killed mid-run loses at most this many measurements."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    key TEXT NOT NULL,
    tokens_in INTEGER NOT NULL,
    tokens_out INTEGER NOT NULL,
    seconds REAL NOT NULL,
    created REAL NOT NULL
)
"""
_INDEX = "CREATE INDEX IF NOT EXISTS calls_by_key ON calls(key, created)"


class LatencyRates(BaseModel):
    """A real model's fitted call time: a fixed overhead plus a rate per prompt and per output token."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    overhead_s: float
    s_per_prompt_token: float
    s_per_output_token: float
    calls: int
    """Measured calls the rates were fitted on."""

    def seconds(self, tokens_in: int, tokens_out: int) -> float:
        return self.overhead_s + self.s_per_prompt_token * tokens_in + self.s_per_output_token * tokens_out

    def describe(self) -> str:
        return (
            f"{self.overhead_s:.2f} s + {1000 * self.s_per_prompt_token:.2f} ms/prompt token + "
            f"{1000 * self.s_per_output_token:.1f} ms/output token ({self.calls} calls measured)"
        )


def timing_key(spec: ModelSpec) -> str:
    """A model's calls' key: id, endpoint and served name. A base_url with credentials or a query is keyed by
    `url_identity` (its public form and a short hash), so timings.sqlite never holds a key or password;
    any other URL is kept as written, so rows recorded before stay found."""
    where = url_identity(spec.base_url) if spec.base_url else spec.backend
    return f"{spec.id}|{where}|{spec.api_name}"


def fit_rates(rows: Iterable[tuple[int, int, float]]) -> LatencyRates | None:
    """Least-squares rates of (prompt tokens, output tokens, seconds) rows; None below MIN_CALLS rows.

    Non-negative by elimination: while a fitted coefficient is negative, that term is dropped and the
    rest refitted (three terms, so at most three fits)."""
    data = np.asarray(list(rows), dtype=float)
    if len(data) < MIN_CALLS:
        return None
    design = np.column_stack([np.ones(len(data)), data[:, 0], data[:, 1]])
    active = [0, 1, 2]
    coef = np.zeros(3)
    while active:
        solution, *_ = np.linalg.lstsq(design[:, active], data[:, 2], rcond=None)
        if (solution >= 0).all():
            coef[active] = solution
            break
        active.pop(int(np.argmin(solution)))
    return LatencyRates(
        overhead_s=float(coef[0]), s_per_prompt_token=float(coef[1]), s_per_output_token=float(coef[2]), calls=len(data)
    )


class CallTimings:
    """The measured calls of real models in one SQLite file (WAL; several processes may write)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._recorded = 0
        self._pending: list[tuple[str, int, int, float, float]] = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn: sqlite3.Connection | None = sqlite_io.connect(
                self.path, synchronous="NORMAL", check_same_thread=False
            )
            self._conn.execute(_SCHEMA)
            self._conn.execute(_INDEX)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise StateFileError(f"{self.path}: cannot open the call timings ({exc})") from None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"call timings {self.path} are closed")
        return self._conn

    def record(self, spec: ModelSpec, tokens_in: int, tokens_out: int, seconds: float) -> None:
        """Keep one paid call's time (calls with no time or no tokens say nothing about rates)."""
        if seconds <= 0 or tokens_in + tokens_out <= 0:
            return
        with self._lock:
            self._db()
            self._pending.append((timing_key(spec), tokens_in, tokens_out, seconds, time.time()))
            if len(self._pending) >= FLUSH_EVERY:
                self._flush()

    def _flush(self) -> None:
        """Write the buffered calls in one transaction, pruning the models whose count passed PRUNE_EVERY
        (the caller holds the lock)."""
        if not self._pending:
            return
        db = self._db()
        rows, self._pending = self._pending, []
        before = self._recorded
        self._recorded += len(rows)
        prune = before // PRUNE_EVERY != self._recorded // PRUNE_EVERY
        with db:
            db.execute("BEGIN")
            db.executemany("INSERT INTO calls VALUES (?, ?, ?, ?, ?)", rows)
            for key in sorted({r[0] for r in rows}) if prune else ():
                db.execute(
                    "DELETE FROM calls WHERE key = ? AND rowid NOT IN "
                    "(SELECT rowid FROM calls WHERE key = ? ORDER BY created DESC LIMIT ?)",
                    (key, key, KEEP_CALLS),
                )

    def rows(self, spec: ModelSpec) -> list[tuple[int, int, float]]:
        with self._lock:
            self._flush()
            return (
                self._db()
                .execute(
                    "SELECT tokens_in, tokens_out, seconds FROM calls WHERE key = ? ORDER BY created DESC LIMIT ?",
                    (timing_key(spec), KEEP_CALLS),
                )
                .fetchall()
            )

    def rates(self, spec: ModelSpec) -> LatencyRates | None:
        """The model's fitted rates, or None while fewer than MIN_CALLS calls are measured."""
        return fit_rates(self.rows(spec))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._flush()
                self._conn.close()
                self._conn = None


def measured_rates(home: Path, specs: Iterable[ModelSpec]) -> dict[str, LatencyRates]:
    """Fitted rates of the non-sim models among `specs` that have enough measured calls under `home`."""
    real = [s for s in specs if s.backend != "sim"]
    path = Path(home) / TIMINGS_FILE
    if not real or not path.is_file():
        return {}
    timings = CallTimings(path)
    try:
        found = {s.id: timings.rates(s) for s in real}
    finally:
        timings.close()
    return {model_id: r for model_id, r in found.items() if r is not None}
