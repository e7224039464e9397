"""The results store's schema: its migrations (applied in order, the version kept in the store), the
column lists the queries share, and applying the missing migrations once under a write lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rolegraph import sqlite_io
from rolegraph.errors import RolegraphError


class StoreError(RolegraphError):
    """The results store cannot be opened or has no such run."""


MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # version 1
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY, created TEXT NOT NULL, task TEXT NOT NULL, label TEXT,
            graph_hash TEXT NOT NULL, graph_name TEXT NOT NULL, graph_json TEXT NOT NULL,
            settings TEXT NOT NULL DEFAULT '{}',
            n INTEGER NOT NULL, accuracy REAL NOT NULL, ci_lo REAL NOT NULL, ci_hi REAL NOT NULL,
            mean_latency_s REAL NOT NULL, p95_latency_s REAL NOT NULL, mean_critical_path_s REAL NOT NULL,
            tokens INTEGER NOT NULL, cost_usd REAL NOT NULL, flops_units REAL NOT NULL,
            failures INTEGER NOT NULL, skipped INTEGER NOT NULL,
            simulated INTEGER NOT NULL, partial INTEGER NOT NULL DEFAULT 0)""",
        """CREATE TABLE items (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
            item_id TEXT NOT NULL, score REAL NOT NULL, answer TEXT, gold TEXT,
            latency_s REAL NOT NULL, critical_path_s REAL NOT NULL, cost_usd REAL NOT NULL,
            tokens INTEGER NOT NULL, flops_units REAL NOT NULL, error TEXT,
            PRIMARY KEY (run_id, seq))""",
        """CREATE TABLE node_traces (
            run_id TEXT NOT NULL, seq INTEGER NOT NULL, item_id TEXT NOT NULL, node_id TEXT NOT NULL,
            role TEXT NOT NULL, model TEXT NOT NULL, ran INTEGER NOT NULL, answer TEXT, score REAL,
            tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL, latency_s REAL NOT NULL,
            cost_usd REAL NOT NULL,
            PRIMARY KEY (run_id, seq, node_id),
            FOREIGN KEY (run_id, seq) REFERENCES items(run_id, seq) ON DELETE CASCADE)""",
        "CREATE INDEX runs_by_task ON runs(task, created)",
        "CREATE INDEX runs_by_graph ON runs(graph_hash)",
    ),
    (  # version 2: how many of a node's replies were cut at max_tokens (NULL: not recorded)
        "ALTER TABLE node_traces ADD COLUMN truncated_calls INTEGER",
    ),
    (  # version 3: the three-way label read from the replies, and what answered (NULL: stored before)
        "ALTER TABLE runs ADD COLUMN simulation TEXT",
        "ALTER TABLE runs ADD COLUMN provenance TEXT",
        "ALTER TABLE items ADD COLUMN simulation TEXT",
    ),
    (  # version 4: a node's model calls, and how many the response cache answered (0 in older rows)
        "ALTER TABLE node_traces ADD COLUMN calls INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE node_traces ADD COLUMN cached_calls INTEGER NOT NULL DEFAULT 0",
    ),
    (  # version 5: what a deployment observes per item (NULL: not observed), and paired outcomes
        "ALTER TABLE items ADD COLUMN agreement REAL",
        "ALTER TABLE items ADD COLUMN verified INTEGER",
        "ALTER TABLE items ADD COLUMN logprob REAL",
        "ALTER TABLE items ADD COLUMN stage INTEGER",
        """CREATE TABLE paired (
            set_name TEXT NOT NULL, split TEXT NOT NULL, graph_hash TEXT NOT NULL,
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, source TEXT NOT NULL,
            items_hash TEXT NOT NULL, n INTEGER NOT NULL, created TEXT NOT NULL,
            PRIMARY KEY (set_name, split, graph_hash))""",
    ),
    (  # version 6: a node's mean token log-probability (a plurality stage's voter speaks with it; NULL: not returned)
        "ALTER TABLE node_traces ADD COLUMN logprob REAL",
    ),
)
"""Append a tuple of statements to change the schema; never edit a released one."""

SUMMARY_COLUMNS = (
    "id",
    "created",
    "task",
    "label",
    "graph_name",
    "graph_hash",
    "n",
    "accuracy",
    "ci_lo",
    "ci_hi",
    "mean_latency_s",
    "p95_latency_s",
    "cost_usd",
    "tokens",
    "flops_units",
    "failures",
    "skipped",
    "simulated",
    "partial",
    "simulation",
)


ITEM_COLUMNS = (
    "run_id, seq, item_id, score, answer, gold, latency_s, critical_path_s, cost_usd, tokens, flops_units, error, "
    "simulation, agreement, verified, logprob, stage"
)
ITEM_COUNT = ITEM_COLUMNS.count(",") + 1


VERSION_TABLE = "schema_version"
"""The table every results store has from its first migration on: what tells a store from another database."""
SHOWN_TABLES = 4  # tables a "not a results store" message names


def refuse_foreign(path: Path) -> None:
    """Raise StoreError when `path` is an SQLite database that is not a results store (a search's run.sqlite,
    the response cache, someone's own database): opening it as a store would add the store's tables to it
    and switch it to WAL. It only reads, so a refused file is left byte for byte as it was. A new, empty or
    unreadable file passes (it becomes a store, or fails to open with its own message)."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        db = sqlite_io.connect(  # rw only so it tidies its WAL files
            path, mode="rw", timeout_s=sqlite_io.SQLITE_DEFAULT_TIMEOUT_S, wal=False
        )
        try:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return
    if tables and VERSION_TABLE not in tables:
        shown = ", ".join(tables[:SHOWN_TABLES]) + (", ..." if len(tables) > SHOWN_TABLES else "")
        raise StoreError(
            f"{path}: not a results store (an SQLite database with other tables: {shown}); "
            "give another --store, or a new file"
        )


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Apply missing migrations under a write lock, so concurrent openers migrate once."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL)")
        row = db.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row else 0
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{path}: store schema v{version} is newer than this rolegraph (v{len(MIGRATIONS)}); upgrade rolegraph"
            )
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                db.execute(statement)
        if row is None:
            db.execute("INSERT INTO schema_version VALUES (?)", (len(MIGRATIONS),))
        else:
            db.execute("UPDATE schema_version SET version = ?", (len(MIGRATIONS),))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
