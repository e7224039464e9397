"""`ResultsStore`: every evaluation in SQLite (runs, items, per-node traces), to report on later.

WAL plus a busy timeout let several processes (parallel searches, a CLI beside them) write
one store; each `save` is one transaction, so a run is stored whole or not at all. The schema
carries a version and a list of migrations applied in order.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from rolegraph import sqlite_io
from rolegraph.evaluate.aggregate import spec_node_of, summarize
from rolegraph.evaluate.result import EvalResult, ItemScore, NodeUsage
from rolegraph.evaluate.store_schema import (
    ITEM_COLUMNS,
    ITEM_COUNT,
    MIGRATIONS,
    SUMMARY_COLUMNS,
    StoreError,
    migrate,
    refuse_foreign,
)
from rolegraph.graphs.router import ROUTER_KIND, RouterSpec
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.provenance import SIMULATED, Provenance, Simulation, stored_simulation

RUN_ID_HEX = 16

__all__ = ["MIGRATIONS", "PairedRun", "ResultsStore", "StoreError", "items_hash", "spec_from_json"]

WORLD_SETTING = "world"
"""The simulator world of a run is kept in its settings JSON (no schema change; absent for real models)."""


RUN_COUNTS = ("trimmed_items", "timed_out_attempts", "timed_out_usd")
"""Run-level figures kept in its settings JSON as the world is, when not zero (no schema change: an older rolegraph
still opens the store): items with evidence trimmed to a context window, requests abandoned at a timeout and their
worst case in dollars. A run stored before them reads 0."""


def _with_world(settings: dict | None, world: int | None, result: EvalResult | None = None) -> dict:
    counts = {key: getattr(result, key) for key in RUN_COUNTS if getattr(result, key, 0)} if result else {}
    return dict(settings or {}) | ({WORLD_SETTING: world} if world is not None else {}) | counts


def _run_counts(settings: dict) -> dict:
    """`RUN_COUNTS` of a run's stored settings, their defaults (0) where absent."""
    return {key: settings.get(key) or EvalResult.model_fields[key].default for key in RUN_COUNTS}


def _simulation(label: str | None, simulated: int) -> Simulation:
    """The stored label; runs stored before it existed said only simulated (then: any sim model) or not."""
    return stored_simulation(label, simulated)


class PairedRun(BaseModel):
    """One graph's run in a paired set: every run of one (set, split) scored the same items in the same order."""

    set_name: str
    split: str
    graph_hash: str
    run_id: str
    source: str  # "front" (a search's front), "best", "single", "eval" (added with `rolegraph eval --add-to`)
    items_hash: str
    n: int


def items_hash(item_ids: list[str]) -> str:
    """Identity of an ordered list of items: runs with equal hashes are paired item by item."""
    return hashlib.sha256("\x1f".join(item_ids).encode("utf-8")).hexdigest()[:RUN_ID_HEX]


def _opt_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def spec_from_json(text: str) -> GraphSpec | RouterSpec:
    """A stored graph or router (routers carry `kind: router`)."""
    data = json.loads(text)
    if isinstance(data, dict) and data.get("kind") == ROUTER_KIND:
        return RouterSpec.model_validate(data)
    return GraphSpec.model_validate(data)


def _node_rows(run_id: str, seq: int, it: ItemScore, spec: GraphSpec | RouterSpec) -> list[tuple]:
    """node_traces rows of one item: one per trace id it holds, so loop rounds (`a@2`) and fan-out copies
    (`search[1]`) are stored with the graph node's role and model, and a stored run counts every call the
    live one did. Ids no graph node owns are kept too (empty role and model), for the same totals."""
    nodes = {n.id: n for n in spec.nodes}
    rows = []
    for trace_id in dict.fromkeys([*it.node_usage, *it.node_answers]):
        owner = nodes.get(spec_node_of(trace_id, list(nodes)) or "")
        use = it.node_usage.get(trace_id) or NodeUsage()
        rows.append(
            (
                run_id,
                seq,
                it.item_id,
                trace_id,
                owner.role if owner is not None else "",
                owner.model if owner is not None else "",
                int(trace_id in it.node_answers),
                it.node_answers.get(trace_id),
                it.node_scores.get(trace_id),
                use.tokens_in,
                use.tokens_out,
                use.latency_s,
                use.cost_usd,
                use.truncated_calls,
                use.calls,
                use.cached_calls,
                use.logprob,
            )
        )
    return rows


def _summary_row(row: tuple) -> dict:
    """A runs row (SUMMARY_COLUMNS, then settings) as the dict `ResultsStore.runs()` lists."""
    rec = dict(zip(SUMMARY_COLUMNS, row[:-1]))
    rec["ci95"] = [rec.pop("ci_lo"), rec.pop("ci_hi")]
    rec["simulation"] = _simulation(rec["simulation"], rec["simulated"])
    rec["simulated"] = rec["simulation"] == SIMULATED
    rec["partial"] = bool(rec["partial"])
    rec["graph"] = rec["graph_name"]
    rec["settings"] = json.loads(row[-1])
    rec["world"] = rec["settings"].get(WORLD_SETTING)
    rec.update(_run_counts(rec["settings"]))
    return rec


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class ResultsStore:
    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()
        refuse_foreign(self.path)  # before anything below writes to the file
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite_io.connect(self.path)  # WAL, and the shared busy timeout: several processes write it
            self._db.execute("PRAGMA foreign_keys = ON")
            migrate(self._db, self.path)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise StoreError(f"{self.path}: cannot open the results store ({exc})") from None

    @property
    def schema_version(self) -> int:
        return self._db.execute("SELECT version FROM schema_version").fetchone()[0]

    def save(
        self,
        result: EvalResult,
        spec: GraphSpec | RouterSpec,
        *,
        label: str | None = None,
        settings: dict | None = None,
    ) -> str:
        """Store a result whole, in one transaction; returns the new run id."""
        run_id = uuid.uuid4().hex[:RUN_ID_HEX]
        run_row = (
            run_id,
            _now(),
            result.task,
            label,
            result.graph_hash,
            result.graph_name,
            spec.model_dump_json(),
            json.dumps(_with_world(settings, result.world, result), sort_keys=True, default=str),
            result.n,
            result.accuracy,
            result.ci95[0],
            result.ci95[1],
            result.mean_latency_s,
            result.p95_latency_s,
            result.mean_critical_path_s,
            result.tokens,
            result.cost_usd,
            result.flops_units,
            result.failures,
            result.skipped,
            int(result.simulated),
            int(result.partial),
            result.simulation,
            result.provenance.model_dump_json() if result.provenance is not None else None,
        )
        item_rows = []
        node_rows = []
        for seq, it in enumerate(result.items):
            item_rows.append(
                (
                    run_id,
                    seq,
                    it.item_id,
                    it.score,
                    it.answer,
                    it.gold,
                    it.latency_s,
                    it.critical_path_s,
                    it.cost_usd,
                    it.tokens,
                    it.flops_units,
                    it.error,
                    it.simulation,
                    it.agreement,
                    _opt_bool(it.verified),
                    it.logprob,
                    it.stage,
                )
            )
            node_rows += _node_rows(run_id, seq, it, spec)
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(f"INSERT INTO runs VALUES ({', '.join('?' * len(run_row))})", run_row)
            db.executemany(f"INSERT INTO items ({ITEM_COLUMNS}) VALUES ({', '.join('?' * ITEM_COUNT)})", item_rows)
            db.executemany(
                "INSERT INTO node_traces VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", node_rows
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return run_id

    def load(self, run_id: str) -> EvalResult:
        """The stored run as an `EvalResult`, per-node statistics recomputed from its traces."""
        db = self._db
        row = db.execute(
            "SELECT task, graph_hash, graph_json, skipped, simulated, partial, simulation, provenance, settings "
            "FROM runs WHERE id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no stored run '{run_id}'")
        task, ghash, graph_json, skipped, simulated, partial, simulation, provenance, stored_settings = row
        spec = spec_from_json(graph_json)
        items: list[ItemScore] = []
        for (
            item_id,
            score,
            answer,
            gold,
            latency,
            critical,
            cost,
            tokens,
            flops,
            error,
            label,
            agreement,
            verified,
            logprob,
            stage,
        ) in db.execute(
            "SELECT item_id, score, answer, gold, latency_s, critical_path_s, cost_usd, tokens, flops_units, "
            "error, simulation, agreement, verified, logprob, stage FROM items WHERE run_id = ? ORDER BY seq",
            (run_id,),
        ):
            items.append(
                ItemScore(
                    item_id=item_id,
                    score=score,
                    answer=answer,
                    gold=gold,
                    latency_s=latency,
                    critical_path_s=critical,
                    cost_usd=cost,
                    tokens=tokens,
                    flops_units=flops,
                    error=error,
                    simulation=label,
                    agreement=agreement,
                    verified=None if verified is None else bool(verified),
                    logprob=logprob,
                    stage=stage,
                )
            )
        for seq, node_id, answered, answer, score, t_in, t_out, latency, cost, cut, calls, cached, lp in db.execute(
            "SELECT seq, node_id, ran, answer, score, tokens_in, tokens_out, latency_s, cost_usd, truncated_calls, "
            "calls, cached_calls, logprob FROM node_traces WHERE run_id = ? ORDER BY seq",
            (run_id,),
        ):
            it = items[seq]
            if answered:
                it.node_answers[node_id] = answer
            if score is not None:
                it.node_scores[node_id] = score
            it.node_usage[node_id] = NodeUsage(
                tokens_in=t_in,
                tokens_out=t_out,
                latency_s=latency,
                cost_usd=cost,
                truncated_calls=cut,
                calls=calls,
                cached_calls=cached,
                logprob=lp,
            )
        settings = json.loads(stored_settings or "{}")
        result = summarize(
            items,
            spec,
            task=task,
            graph_hash=ghash,
            skipped=skipped,
            simulation=_simulation(simulation, simulated),
            partial=bool(partial),
            run_id=run_id,
            world=settings.get(WORLD_SETTING),
            provenance=Provenance.model_validate_json(provenance) if provenance else None,
        )
        return result.model_copy(update=_run_counts(settings))

    def graph(self, run_id: str) -> GraphSpec | RouterSpec:
        row = self._db.execute("SELECT graph_json FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no stored run '{run_id}'")
        return spec_from_json(row[0])

    def pair(self, set_name: str, split: str, result: EvalResult, source: str) -> PairedRun:
        """File a stored run (`result.run_id`) in a paired set; a graph already there is replaced."""
        if result.run_id is None:
            raise StoreError("only a stored run can be paired: evaluate with store=...")
        row = PairedRun(
            set_name=set_name,
            split=split,
            graph_hash=result.graph_hash,
            run_id=result.run_id,
            source=source,
            items_hash=items_hash([it.item_id for it in result.items]),
            n=result.n,
        )
        with_items = self.paired(set_name, split)
        if with_items and with_items[0].items_hash != row.items_hash:
            raise StoreError(
                f"{self.path}: run '{result.run_id}' scored other items than the paired set '{set_name}' ({split})"
            )
        self._db.execute(
            "INSERT OR REPLACE INTO paired VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (set_name, split, row.graph_hash, row.run_id, row.source, row.items_hash, row.n, _now()),
        )
        return row

    def paired(self, set_name: str, split: str) -> list[PairedRun]:
        """The runs of a paired set on one split, in the order they were added."""
        rows = self._db.execute(
            "SELECT set_name, split, graph_hash, run_id, source, items_hash, n FROM paired "
            "WHERE set_name = ? AND split = ? ORDER BY created, rowid",
            (set_name, split),
        )
        fields = ("set_name", "split", "graph_hash", "run_id", "source", "items_hash", "n")
        return [PairedRun(**dict(zip(fields, r))) for r in rows]

    def runs(self, task: str | None = None, limit: int | None = None) -> list[dict]:
        """Summaries of stored runs, newest first (keys as `EvalResult.summary()` plus id, created, label)."""
        sql = f"SELECT {', '.join(SUMMARY_COLUMNS)}, settings FROM runs"
        args: list = []
        if task is not None:
            sql += " WHERE task = ?"
            args.append(task)
        sql += " ORDER BY created DESC, rowid DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [_summary_row(row) for row in self._db.execute(sql, args)]

    def run(self, run_id: str) -> dict:
        """The summary of one stored run, with the keys `runs()` gives it (graph hash, created, settings)."""
        row = self._db.execute(
            f"SELECT {', '.join(SUMMARY_COLUMNS)}, settings FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no stored run '{run_id}'")
        return _summary_row(row)

    def count(self, task: str | None = None) -> int:
        """How many runs are stored (of one task): what a listing cut by a limit leaves out."""
        if task is None:
            return self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        return self._db.execute("SELECT COUNT(*) FROM runs WHERE task = ?", (task,)).fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
