"""Warm starts (`--init-from RUN_DIR`): a new search that begins where an earlier one ended.

Two things carry over. The *distribution*: the earlier optimizer's probabilistic graph, mapped onto
the new space by model and role names (a model or role the earlier space lacked starts neutral; extra
slots start at the defaults), adopted by methods that learn one (Agent-REINFORCE, REINFORCE; TPE
takes the evidence as its trials instead). The *evidence*: the earlier run's training evaluations
(pilot and search) of graphs that fit the new space, imported as uncharged `prior` records, so they
pool with new scores and compete for the final choice. Evidence is only imported from a run on the
same task and data, by content (the data file's sha256 the run recorded: an edited file at the same path
holds other items), in the same simulator world (another world is another landscape: the same graph
scores differently there); other items or another world would make the scores incomparable. The
distribution still carries over then, as a prior that new scores soon correct. The earlier calls themselves
are in the response cache, so a new search that scores the same graph on the same items pays for
nothing again.

Agent-REINFORCE skips its pilot when it adopted a distribution: the pilot's job (which models suit
the task) was done by the earlier run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rolegraph.errors import RolegraphError, SearchError
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.choices import from_graph
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.probabilistic import Logits, ProbabilisticGraph
from rolegraph.optimize.rundir import RunStore, file_sha256
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.trace import TRAINING_PHASES, EvalRecord, Evaluation, FeedbackRecord

PRIOR_PHASE = "prior"
WARM_AGENT = "warm-start"


@dataclass
class WarmStart:
    """What an earlier run leaves to a new one (read once, before the new search starts)."""

    source: str
    config: dict[str, Any]
    distribution: dict | None
    records: list[EvalRecord]
    graphs: dict[str, dict]
    use_evidence: bool = True
    notes: list[str] = field(default_factory=list)
    inputs: dict[str, Any] | None = None  # the files the earlier run read (None: it predates that record)
    not_comparable: str | None = None  # why its evidence is not imported, when it is not

    @classmethod
    def load(cls, run_dir: str | Path) -> WarmStart:
        """Read `run_dir`'s store; a directory that is not a run, or a run without a checkpoint, is a
        one-line `SearchError`."""
        store = RunStore.open(run_dir)
        try:
            cfg = store.config(check_inputs=False)  # a changed file is decided here: evidence not carried
            inputs = store.inputs()
            point = store.checkpoint()
            if point is None:
                raise SearchError(f"{run_dir}: the run has no checkpoint yet, so there is nothing to start from")
            state = point[2].get("optimizer") or {}
            records = [EvalRecord.model_validate(r) for r in store.records() if r.get("phase") in TRAINING_PHASES]
            graphs = store.graphs()
        finally:
            store.close()
        return cls(str(run_dir), cfg, state.get("pg"), records, graphs, inputs=inputs)

    def same_task(self, task_args: dict[str, Any]) -> bool:
        """True when the earlier run scored the same task on the same data (its evidence is comparable); else
        False with the reason in `not_comparable`. Data is compared by content where the earlier run recorded
        its hash (a path names whatever the file holds now), else by resolved path, with a note."""
        old, new = dict(self.config.get("task_args") or {}), dict(task_args)
        old_data, new_data = old.pop("data", None), new.pop("data", None)
        if old != new or (old_data is None) != (new_data is None):
            self.not_comparable = "the earlier run scored another task or data"  # task options make other items too
            return False
        if old_data is None or new_data is None:
            return True
        here = Path(new_data).expanduser().resolve()
        then = (self.inputs or {}).get("data") or {}
        if not then.get("sha256"):
            if Path(old_data).expanduser().resolve() != here:
                self.not_comparable = "the earlier run scored another data file"
                return False
            self.notes.append("the earlier run kept no hash of its data file: its evidence is taken on the path alone")
            return True
        if file_sha256(here) == then["sha256"]:
            return True
        self.not_comparable = (
            f"the data file {here} changed since the earlier run read it"
            if Path(then["path"]) == here
            else "the earlier run scored another data file"
        )
        return False

    def same_world(self, world: int) -> bool:
        """True when the earlier run searched the same simulator world (runs from before worlds: world 0)."""
        then = int(self.config.get("world") or 0)
        if then != world:
            self.not_comparable = f"the earlier run searched another world (world {then}; this search: world {world})"
            return False
        return True


def _neutral(row: np.ndarray) -> float:
    return float(np.mean(row)) if row.size else 0.0


def transfer(pg_state: dict, old_space: SearchSpace, space: SearchSpace) -> ProbabilisticGraph:
    """The earlier distribution on the new space: slots by position, models and roles by name."""
    old = ProbabilisticGraph.from_dict(old_space, pg_state).logits
    new = ProbabilisticGraph(space)
    lg = new.logits.copy()
    w = min(old_space.worker_slots, space.worker_slots)

    def by_name(dst: np.ndarray, src: np.ndarray, names: tuple[str, ...], old_names: tuple[str, ...]) -> None:
        for k, name in enumerate(names):
            dst[k] = src[old_names.index(name)] if name in old_names else _neutral(src)

    lg.presence[:w] = old.presence[:w]
    for i in range(w):
        by_name(lg.models[i], old.models[i], space.models, old_space.models)
        by_name(lg.roles[i], old.roles[i], space.worker_roles, old_space.worker_roles)
    by_name(lg.out_model, old.out_model, space.models, old_space.models)
    by_name(lg.out_role, old.out_role, space.output_roles, old_space.output_roles)
    old_pg = ProbabilisticGraph(old_space)
    for k, (i, j) in enumerate(new.pairs):
        j_old = old_space.worker_slots if j == space.worker_slots else j
        src = old_pg.edge_index(i, j_old) if i < old_space.worker_slots else None
        if src is not None:
            lg.edges[k] = old.edges[src]
    return ProbabilisticGraph(space, Logits(*lg.arrays()))


def _same_shape(old_space: SearchSpace, space: SearchSpace) -> bool:
    """Slots mean the same thing: both free-form, or the same stages (names, roles, slot counts)."""
    shape = lambda sp: [(st.name, st.role, st.max_width) for st in sp.stages]  # noqa: E731
    return shape(old_space) == shape(space)


def distribution_for(warm: WarmStart, space: SearchSpace, pool: ModelPool) -> ProbabilisticGraph | None:
    """The earlier run's distribution on `space`, or None (with a note saying why)."""
    if warm.distribution is None:
        warm.notes.append(f"the earlier run ({warm.config.get('optimizer', {}).get('name')}) kept no distribution")
        return None
    try:
        old_space = SearchSpace.from_dict(warm.config["space"], pool, space.registry)
    except (RolegraphError, KeyError) as exc:
        warm.notes.append(f"the earlier run's space no longer loads ({exc}): its distribution is not used")
        return None
    if not _same_shape(old_space, space):
        warm.notes.append("the earlier run's stages differ from this space's: its distribution is not used")
        return None
    return transfer(warm.distribution, old_space, space)


def import_evidence(ctx: SearchContext, warm: WarmStart) -> list[Evaluation]:
    """Append the earlier training evaluations of graphs in this space as uncharged `prior` records."""
    out: list[Evaluation] = []
    if warm.use_evidence:
        warm.use_evidence = warm.same_world(ctx.space.pool.world)
    if not warm.use_evidence:
        reason = warm.not_comparable or "the earlier run scored another task or data"
        warm.notes.append(f"{reason}: its evidence is not imported")
        return out
    for r in warm.records:
        raw = warm.graphs.get(r.graph_hash)
        if raw is None:
            continue
        spec = GraphSpec.model_validate(raw)
        choices = from_graph(ctx.space, spec)
        if choices is None or not ctx.space.fits(spec):
            continue
        h = ctx.register(spec)
        ctx.graphs.setdefault(h, raw)
        record = r.model_copy(
            update={
                "seq": len(ctx.trace.records),
                "iteration": 0,
                "phase": PRIOR_PHASE,
                "graph_hash": h,
                "objective": ctx.space.objective.value(r.accuracy, r.latency_s, r.dollars),
                "evaluations": ctx.spent,
            }
        )
        ctx.trace.records.append(record)
        out.append(Evaluation(record=record, graph=spec, choices=choices))
    return out


def apply_warm_start(ctx: SearchContext, optimizer: Optimizer, warm: WarmStart, pool: ModelPool) -> bool:
    """Import evidence, hand distribution and evidence to the optimizer, log what carried over.
    True when the optimizer adopted a distribution (then it needs no pilot)."""
    evidence = import_evidence(ctx, warm)
    pg = distribution_for(warm, ctx.space, pool)
    adopted = optimizer.warm_start(pg, evidence)
    items = sum(e.record.n for e in evidence)
    graphs = len({e.record.graph_hash for e in evidence})
    carried = [f"{len(evidence)} evaluations ({items} item runs, not charged) of {graphs} graphs"]
    if adopted:
        carried.append("the distribution")
    ctx.log_feedback(
        FeedbackRecord(
            iteration=0,
            agent=WARM_AGENT,
            summary=f"warm start from {warm.source}: {' and '.join(carried)}",
            hurt=list(warm.notes),
        )
    )
    return adopted
