"""Warm starts (`--init-from RUN_DIR`): a new search that begins where an earlier one ended.

Two things carry over. The *distribution*: the earlier optimizer's probabilistic graph, mapped onto
the new space by model and role names (a model or role the earlier space lacked starts neutral; extra
slots start at the defaults), adopted by methods that learn one (Agent-REINFORCE, REINFORCE; TPE
takes the evidence as its trials instead). The *evidence*: the earlier run's training evaluations
(pilot and search) of graphs that fit the new space, imported as uncharged `prior` records, so they
pool with new scores and compete for the final choice. Evidence is only imported from a run on the
same task and data, by content (the data file's sha256 the run recorded: an edited file at the same path
holds other items; and the digest of the task's items both runs recorded, `task_items`, which tells apart a
task built in Python with another seed or other options), in the same simulator world (another world is
another landscape: the same graph scores differently there); other items or another world would make the
scores incomparable. The distribution still carries over then, as a prior that new scores soon correct.
A graph using a role of the user's own that this search defines otherwise than the earlier run did (by the
definitions both stored: prompt, parser, answers, ...) is another graph under the same name: its evidence
is not imported, and that role starts neutral in the distribution. The earlier calls themselves are in the
response cache, so a new search that scores the same graph on the same items pays for nothing again.

Agent-REINFORCE skips its pilot when it adopted a distribution: the pilot's job (which models suit
the task) was done by the earlier run.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rolegraph.agents.registry import BUILTIN_ROLES, RoleRegistry
from rolegraph.agents.roles_file import register_defs
from rolegraph.errors import RolegraphError, SearchError, TaskError
from rolegraph.fileio import file_sha256
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.choices import from_graph
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.probabilistic import Logits, ProbabilisticGraph
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.task_difference import data_file_difference, task_difference
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
    iteration: int = 0  # the earlier run's last checkpointed iteration

    @property
    def next_batch_key(self) -> int:
        """The first batch key the earlier run did not draw (`SearchConfig.batch_offset` of the new search): its
        keys ran from its own offset through its last iteration (key 0: the classic pilot's batch)."""
        search = self.config.get("search") or {}
        return int(search.get("batch_offset") or 0) + self.iteration + 1

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
        return cls(str(run_dir), cfg, state.get("pg"), records, graphs, inputs=inputs, iteration=int(point[0]))

    def same_task(self, task_args: dict[str, Any], task_items: str | None = None) -> bool:
        """True when the earlier run scored the same task on the same data (its evidence is comparable); else
        False with the reason in `not_comparable`. Data is compared by content where the earlier run recorded
        its hash (a path names whatever the file holds now), else by resolved path, with a note. `task_items`:
        this search's `items_digest`, compared with the earlier run's when both are known. The digest settles the
        items but not how they are scored (family, metric), so the options are compared still; with both digests
        known, an option given at its task's default counts as left out (`given_options`)."""
        old, new = dict(self.config.get("task_args") or {}), dict(task_args)
        old_data, new_data = old.pop("data", None), new.pop("data", None)
        then_items = self.config.get("task_items")
        if task_items is not None and then_items is not None:
            old, new = given_options(old), given_options(new)
        if old != new or (old_data is None) != (new_data is None):  # task options make other items too
            self.not_comparable = task_difference(old, new, old_data, new_data, task_args.get("name"))
            return False
        if not self._same_data(old_data, new_data):
            return False
        if task_items is not None and then_items is not None and then_items != task_items:
            name = task_args.get("name", "?")
            self.not_comparable = f"the earlier run scored other items of task '{name}' (another seed, size or data)"
            return False
        return True

    def _same_data(self, old_data: str | None, new_data: str | None) -> bool:
        """`same_task`'s data file comparison (both None: no data file, the same)."""
        if old_data is None or new_data is None:
            return True
        here = Path(new_data).expanduser().resolve()
        then = (self.inputs or {}).get("data") or {}
        if not then.get("sha256"):
            if Path(old_data).expanduser().resolve() != here:
                self.not_comparable = data_file_difference(old_data, here)
                return False
            self.notes.append("the earlier run kept no hash of its data file: its evidence is taken on the path alone")
            return True
        if file_sha256(here) == then["sha256"]:
            return True
        self.not_comparable = (
            f"the data file {here} changed since the earlier run read it"
            if Path(then["path"]) == here
            else data_file_difference(then["path"], here)
        )
        return False

    def changed_roles(self, registry: RoleRegistry | None) -> dict[str, str]:
        """Roles this search defines otherwise than the earlier run did, each with how: {name: why}. Built-in
        roles are the same in both; a role of the user's own is compared by the definitions both runs stored
        (`role_defs`). A role registered in Python stores none, so it compares only against another such one."""
        then = {d["name"]: _canonical(d) for d in self.config.get("role_defs") or []}
        now = {d["name"]: _canonical(d) for d in (registry.definitions if registry is not None else [])}
        out = {}
        for name in sorted(then.keys() | now.keys()):
            if name in BUILTIN_ROLES or then.get(name) == now.get(name):
                continue
            if name not in then:
                out[name] = "the earlier run had no definition of it from a roles file"
            elif name not in now:
                out[name] = "this search has no definition of it from a roles file"
            else:
                fields = sorted(
                    k for k in then[name].keys() | now[name].keys() if then[name].get(k) != now[name].get(k)
                )
                out[name] = (
                    f"its {', '.join(fields)} {'differ' if len(fields) > 1 else 'differs'} from the earlier run's"
                )
        return out

    def same_world(self, world: int) -> bool:
        """True when the earlier run searched the same simulator world (runs from before worlds: world 0)."""
        then = int(self.config.get("world") or 0)
        if then != world:
            self.not_comparable = f"the earlier run searched another world (world {then}; this search: world {world})"
            return False
        return True


def given_options(task_args: dict[str, Any]) -> dict[str, Any]:
    """`task_args` less the options given at their factory's default (`--task-option question_field=question`
    builds the task that leaving it out builds); a task the built-in registry does not know keeps them all."""
    from rolegraph.tasks.registry import default_registry

    try:
        params = inspect.signature(default_registry().entry(str(task_args.get("name"))).factory).parameters
    except TaskError:
        return task_args
    return {k: v for k, v in task_args.items() if k not in params or not _is_default(v, params[k].default)}


def _is_default(value: Any, default: Any) -> bool:
    """`value` is `default`, or is the command line's text of it ('40' for 40)."""
    if default is inspect.Parameter.empty:
        return False
    return bool(value == default) or (isinstance(value, str) and default is not None and value.strip() == str(default))


def _canonical(definition: dict[str, Any]) -> dict[str, Any]:
    """A role definition as the store keeps it (JSON: lists, not tuples), so the two runs' compare equal."""
    return dict(json.loads(json.dumps(definition, sort_keys=True)))


def _neutral(row: np.ndarray) -> float:
    return float(np.mean(row)) if row.size else 0.0


def transfer(
    pg_state: dict, old_space: SearchSpace, space: SearchSpace, fresh_roles: frozenset[str] = frozenset()
) -> ProbabilisticGraph:
    """The earlier distribution on the new space: slots by position, models and roles by name. `fresh_roles`
    (defined otherwise now) start neutral, as roles the earlier space lacked."""
    old = ProbabilisticGraph.from_dict(old_space, pg_state).logits
    new = ProbabilisticGraph(space)
    lg = new.logits.copy()
    w = min(old_space.worker_slots, space.worker_slots)

    def by_name(dst: np.ndarray, src: np.ndarray, names: tuple[str, ...], old_names: tuple[str, ...]) -> None:
        for k, name in enumerate(names):
            dst[k] = src[old_names.index(name)] if name in old_names else _neutral(src)

    def old_roles(names: tuple[str, ...]) -> tuple[str, ...]:  # a fresh role matches no earlier name
        return tuple(n if n not in fresh_roles else "" for n in names)

    lg.presence[:w] = old.presence[:w]
    for i in range(w):
        by_name(lg.models[i], old.models[i], space.models, old_space.models)
        by_name(lg.roles[i], old.roles[i], space.worker_roles, old_roles(old_space.worker_roles))
    by_name(lg.out_model, old.out_model, space.models, old_space.models)
    by_name(lg.out_role, old.out_role, space.output_roles, old_roles(old_space.output_roles))
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


def _untrained(pg_state: dict, old_space: SearchSpace) -> bool:
    """The earlier distribution is still the one its search starts from: adopting it would carry nothing learnt,
    yet Agent-REINFORCE would skip its pilot, as if the earlier run had done that work."""
    start = ProbabilisticGraph(old_space).logits.arrays()
    then = ProbabilisticGraph.from_dict(old_space, pg_state).logits.arrays()
    return all(np.array_equal(a, b) for a, b in zip(start, then))


def _earlier_roles(warm: WarmStart, space: SearchSpace) -> RoleRegistry | None:
    """The roles the earlier space loads with: its own, rebuilt from the definitions it stored as `--resume`
    rebuilds them (`register_defs`), so a role from its roles file that this search lacks or defines otherwise
    still gives the earlier slots their meaning. A role it registered in Python stored nothing: then this search's
    roles, by name (the earlier space loads if they hold it)."""
    defs = warm.config.get("role_defs") or []
    roles = register_defs(defs) if defs else None
    known = roles.names() if roles is not None else BUILTIN_ROLES
    if any(r not in known for r in warm.config["space"].get("roles", ())):
        return space.registry
    return roles


def distribution_for(warm: WarmStart, space: SearchSpace, pool: ModelPool) -> ProbabilisticGraph | None:
    """The earlier run's distribution on `space`, or None (with a note saying why)."""
    if warm.distribution is None:
        warm.notes.append(f"the earlier run ({warm.config.get('optimizer', {}).get('name')}) kept no distribution")
        return None
    try:
        old_space = SearchSpace.from_dict(warm.config["space"], pool, _earlier_roles(warm, space))
    except (RolegraphError, KeyError) as exc:
        warm.notes.append(f"the earlier run's space no longer loads ({exc}): its distribution is not used")
        return None
    if not _same_shape(old_space, space):
        warm.notes.append("the earlier run's stages differ from this space's: its distribution is not used")
        return None
    if _untrained(warm.distribution, old_space):
        warm.notes.append(
            "the earlier run's distribution never moved from its start (it stopped before any feedback step ran): "
            "it is not used, so this search starts as a fresh one does (Agent-REINFORCE: with its pilot)"
        )
        return None
    fresh = frozenset(warm.changed_roles(space.registry)) & frozenset(space.roles) & frozenset(old_space.roles)
    if fresh:
        listed = ", ".join(f"'{r}'" for r in sorted(fresh))
        which = f"role {listed} starts" if len(fresh) == 1 else f"roles {listed} start"
        warm.notes.append(f"{which} neutral in the distribution (defined otherwise than in the earlier run)")
    return transfer(warm.distribution, old_space, space, fresh)


def import_evidence(ctx: SearchContext, warm: WarmStart) -> list[Evaluation]:
    """Append the earlier training evaluations of graphs in this space as uncharged `prior` records."""
    out: list[Evaluation] = []
    if warm.use_evidence:
        warm.use_evidence = warm.same_world(ctx.space.pool.world)
    if not warm.use_evidence:
        reason = warm.not_comparable or "the earlier run scored another task or data"
        warm.notes.append(f"{reason}: its evidence is not imported")
        return out
    changed = warm.changed_roles(ctx.space.registry)
    skipped: dict[str, set[str]] = {}  # changed role -> hashes of the earlier graphs using it
    skipped_runs = 0
    unfit: set[str] = set()  # earlier graphs outside this space (its budget, models, roles, stages or size)
    unfit_runs = 0
    used: set[str] = set()  # roles of the imported graphs
    for r in warm.records:
        raw = warm.graphs.get(r.graph_hash)
        if raw is None:
            continue
        spec = GraphSpec.model_validate(raw)
        choices = from_graph(ctx.space, spec)
        if choices is None or not ctx.space.fits(spec):
            unfit_runs += 1
            unfit.add(r.graph_hash)
            continue
        stale = {n.role for n in spec.nodes} & changed.keys()
        if stale:
            skipped_runs += 1
            for role in stale:
                skipped.setdefault(role, set()).add(r.graph_hash)
            continue
        used |= {n.role for n in spec.nodes}
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
    if unfit:  # said: a smaller budget or another space leaves evidence behind, which "0 evaluations" hid
        warm.notes.append(
            f"{unfit_runs} evaluations of {len(unfit)} graphs outside this space (over its budget or a context "
            "window, or models, roles, stages or nodes it does not allow) are not imported"
        )
    if skipped:
        graphs = len(set().union(*skipped.values()))
        why = "; ".join(f"role '{role}': {changed[role]}" for role in sorted(skipped))
        warm.notes.append(
            f"{skipped_runs} evaluations of {graphs} graphs using a role defined otherwise than in the earlier run "
            f"are not imported ({why})"
        )
    stored = {d["name"] for d in ctx.space.registry.definitions} if ctx.space.registry is not None else set()
    unchecked = sorted(used - set(BUILTIN_ROLES) - stored)
    if unchecked:  # registered with Python callables: nothing stored to compare
        warm.notes.append(
            f"role {', '.join(repr(r) for r in unchecked)} was registered in Python (no stored definition): "
            "its evidence is imported on the role's name alone"
        )
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
