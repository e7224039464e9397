"""`SearchSpace`: which graphs a search may build, and what each one costs against the budget.

A graph has up to `max_nodes` nodes: `max_nodes - 1` worker slots plus one output node. The
budget is per item, in the paper's FLOPs units (one 1B node = 1.0), in dollars, or in seconds
of (estimated) critical-path latency, all estimated from the task family's token profile so a
graph's cost is known *before* it is run. A node's time is the simulator's speed formula for a sim
model and, for a real model, the rates fitted to its measured calls (`latency_rates`, frozen when
the space is made and saved with it, so a resumed search estimates exactly as before).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NoReturn

import rolegraph.optimize.space_context as windows
from rolegraph.agents.registry import RoleRegistry, builtin_role_names
from rolegraph.errors import SearchError, did_you_mean
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.pool import ModelPool
from rolegraph.models.timings import LatencyRates
from rolegraph.optimize.objectives import Objective
from rolegraph.optimize.space_checks import check_budget, check_roles, require_sequence
from rolegraph.optimize.space_dict import space_dict, space_fields
from rolegraph.optimize.space_messages import no_output_role, size_message
from rolegraph.optimize.stages import (
    ChoiceMasks,
    Stage,
    StageOutput,
    describe_stages,
    stage_edges,
    stage_slots,
    staged_masks,
)

BudgetKind = Literal["flops", "dollars", "latency"]
BUDGET_KINDS: tuple[str, ...] = ("flops", "dollars", "latency")
BUDGET_UNITS = {"flops": "FLOPs units", "dollars": "$ per item", "latency": "s per item (estimated)"}
ANSWER_ROLES: tuple[str, ...] = ("solver", "verifier", "fuser")
"""Roles that write a final answer: only these may be the output node."""
INPUT_ROLES: frozenset[str] = frozenset({"verifier", "fuser"})
"""Roles that judge candidates: without a predecessor they act as a solver."""
FALLBACK_ROLE = "solver"
MIN_NODES = 1
MAX_NODES_LIMIT = 64
OUTPUT_ID = "out"


def _token_profiles():
    """The known families' token profiles (imported late, as the cost methods do: analysis pulls in networkx)."""
    from rolegraph.graphs.analysis import TOKEN_PROFILES

    return TOKEN_PROFILES


def slot_id(index: int) -> str:
    return f"n{index}"


class LatencyUnknownError(SearchError):
    """A latency estimate needs a real model's measured calls and there are none yet."""


@dataclass
class SearchSpace:
    """Candidate models, roles, size limit, budget and objective. `pool` and `registry` are not serialised.

    `roles` may name roles registered on `registry` (a user's own, e.g. a critic); a role that writes
    a final answer (`Role.answers`) may also be the output node. `stages` (with `stage_output`) turns
    the free-form slots into a fixed pipeline whose stage models and widths are searched
    (`rolegraph.optimize.stages`); `max_nodes` and `roles` then follow from the stages.
    """

    pool: ModelPool
    models: tuple[str, ...]
    roles: tuple[str, ...] = field(default_factory=builtin_role_names)
    max_nodes: int = 6
    budget: float | None = 18.0
    budget_kind: BudgetKind = "flops"
    objective: Objective = field(default_factory=Objective)
    family: str = "math"
    """The task family whose token profile prices a graph (`TOKEN_PROFILES`); it must be the searched task's
    (`optimize_async` refuses a mismatch, see `check_family`)."""
    worker_edges: bool = True
    """False: workers only feed the output (ensembles), a space small enough to enumerate."""
    excluded: tuple[str, ...] = ()
    """Models dropped because one node of them alone exceeds the budget."""
    registry: RoleRegistry | None = field(default=None, repr=False, compare=False)
    """The roles graphs may use (None: the built-in roles)."""
    stages: tuple[Stage, ...] = ()
    stage_output: StageOutput | None = None
    latency_rates: dict[str, LatencyRates] = field(default_factory=dict)
    """Real models' call times fitted to their measured calls (`rolegraph.models.timings.measured_rates`)."""
    window_excluded: tuple[str, ...] = ()
    """Models dropped because one node of them alone exceeds their context window (`space_context`)."""
    question_tokens: int = windows.QUESTION_ALLOWANCE_TOKENS
    """The question's allowance in a node's worst-case prompt: the task's longest once a search adopts it."""
    question_known: bool = False
    """Whether `question_tokens` is the task's (adopted, or stored with a run): until then a model is left out only
    if one node of it cannot fit even with an empty question (`space_context.leave_out_unfit`)."""
    _role_costs: dict[str, windows.RoleCost] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._role_costs = windows.role_costs(self.registry)
        require_sequence(self.models, "models")
        require_sequence(self.roles, "roles")
        if self.stages:
            self._init_stages()
        self.models = tuple(dict.fromkeys(self.models))
        self.roles = tuple(dict.fromkeys(self.roles))
        if not self.models:
            raise SearchError("the search space has no models: pass --models a,b,c")
        for model_id in self.models:
            self.pool.get(model_id)  # UnknownModelError names the close ids
        check_roles(self.roles, self.registry)
        for role in self.stage_output.roles if self.stages and self.stage_output is not None else ():
            if not self.answers(role):
                raise SearchError(f"the output node's role '{role}' writes no final answer: it cannot be the output")
        if not self.output_roles:
            raise SearchError(no_output_role(self.roles, bool(self.stages), self._answering_names()))
        if not MIN_NODES <= self.max_nodes <= MAX_NODES_LIMIT:
            raise SearchError(size_message(self.max_nodes, self.stages, MIN_NODES, MAX_NODES_LIMIT))
        if self.budget_kind not in BUDGET_KINDS:
            raise SearchError(f"unknown budget kind '{self.budget_kind}'. Known: {', '.join(BUDGET_KINDS)}.")
        known_families = _token_profiles()
        if self.family not in known_families:
            close = did_you_mean(self.family, known_families, list_known=False)
            raise SearchError(f"unknown task family '{self.family}'.{close} Known: {', '.join(known_families)}.")
        check_budget(self.budget)
        self._check_feasible()
        if self.objective.kind == "joint" and self.objective.latency_ref is None:
            ref = max(self.latency(self.single(m)) for m in self.models)
            self.objective = self.objective.model_copy(update={"latency_ref": ref})

    def _init_stages(self) -> None:
        """Derive roles, models and size from the stages; check each stage's role and models."""
        if self.stage_output is None:
            raise SearchError("a staged space needs an output node (its roles and models)")
        out = self.stage_output
        self.worker_edges = True
        self.roles = tuple(dict.fromkeys([*(s.role for s in self.stages), *out.roles]))
        self.models = tuple(dict.fromkeys([*self.models, *(m for s in self.stages for m in s.models), *out.models]))
        self.max_nodes = stage_slots(self.stages) + 1
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise SearchError(f"stage names must differ, got {', '.join(names)}")

    # --- shape -----------------------------------------------------------------------------------
    @property
    def staged_output(self) -> StageOutput:
        """The output node of a staged space (`_init_stages` made sure a staged space has one)."""
        if self.stage_output is None:
            raise SearchError("this search space has no stages, so no stage output node")
        return self.stage_output

    @property
    def worker_slots(self) -> int:
        return self.max_nodes - 1

    @property
    def worker_roles(self) -> tuple[str, ...]:
        if self.stages:
            return tuple(dict.fromkeys(s.role for s in self.stages))
        return self.roles

    @property
    def output_roles(self) -> tuple[str, ...]:
        if self.stages and self.stage_output is not None:
            return tuple(r for r in self.stage_output.roles if self.answers(r))
        return tuple(r for r in self.roles if self.answers(r))

    def answers(self, role: str) -> bool:
        """True if `role` writes a final answer (so it may be the output node)."""
        if self.registry is not None and role in self.registry:
            return self.registry.get(role).answers
        return role in ANSWER_ROLES

    def _answering_names(self) -> tuple[str, ...]:
        if self.registry is None:
            return ANSWER_ROLES
        return tuple(r.name for r in self.registry if r.answers)

    def masks(self) -> ChoiceMasks | None:
        """Which slot choices are open (None: all of them, the free-form space)."""
        if not self.stages or self.stage_output is None:
            return None
        w = self.worker_slots
        pairs = w * (w - 1) // 2 + w  # every slot pair plus every slot to the output (choices.edge_pairs)
        return staged_masks(self.stages, self.stage_output, self.models, self.worker_roles, self.output_roles, pairs)

    def size(self, model_id: str) -> float:
        """Ordering key for 'smallest model first': parameters, else the price of one node."""
        spec = self.pool.get(model_id)
        if spec.params_b is not None:
            return float(spec.params_b)
        return float(spec.price_in + spec.price_out)

    def single(self, model_id: str, role: str | None = None) -> GraphSpec:
        """The one-node graph of `model_id` (the single-model baseline): a solver, unless every role of the space
        is the user's own: then its first answering role (a built-in solver's prompt compares nothing)."""
        roles = (*self.worker_roles, *self.output_roles)
        mine = [r for r in roles if self.answers(r)] if not set(roles) & set(builtin_role_names()) else []
        return GraphSpec(
            name=f"single-{model_id.split('/')[-1]}",
            nodes=[NodeSpec(id=OUTPUT_ID, role=role or (mine[0] if mine else FALLBACK_ROLE), model=model_id)],
            output=OUTPUT_ID,
        )

    # --- cost ------------------------------------------------------------------------------------
    @property
    def profile(self):
        return _token_profiles()[self.family]  # __post_init__ refused an unknown family

    def check_family(self, task_family: str, task_name: str = "task") -> None:
        """Refuse to search a task of another family than the space's (one line, SearchError).

        The family picks the token profile that prices every graph, and it is applied when the space is
        made: which models fit the budget alone (`excluded`) and the joint objective's latency reference are
        fixed then. Adopting the task's family afterwards would silently change a space its maker already
        inspected (`describe()`), so a mismatch, including a family left at its default, is an error that
        names the fix; a qa search priced with the math profile would otherwise spend the wrong budget.
        """
        if self.family != task_family:
            raise SearchError(
                f"the search space's family '{self.family}' is not the family of {task_name} ('{task_family}'): "
                f"its graphs would be priced with the wrong token profile; make the space with family='{task_family}'"
            )

    def flops(self, spec: GraphSpec) -> float:
        from rolegraph.graphs.analysis import flops_units

        return flops_units(spec, self.pool, self.profile)

    def dollars(self, spec: GraphSpec) -> float:
        from rolegraph.graphs.analysis import estimate_cost

        return float(estimate_cost(spec, self.pool, self.profile)["cost_usd"])

    def call_seconds(self, model_id: str, prompt_tokens: int, output_tokens: int) -> float:
        """One call's estimated time: the sim's speed formula for a sim model, measured rates for a real one."""
        spec = self.pool.get(model_id)
        if spec.backend == "sim":
            from rolegraph.sim.calibration import latency_s

            return latency_s(spec, prompt_tokens, output_tokens)
        rates = self.latency_rates.get(model_id)
        if rates is None:
            raise LatencyUnknownError(
                f"no measured latency for '{model_id}' yet: latency budgets and the joint objective estimate a "
                "real model's time per call from its own measured calls (every paid call is timed, in "
                "$ROLEGRAPH_HOME/timings.sqlite); run a graph of it on a few items first, e.g. "
                "`rolegraph eval GRAPH --task TASK --n 5`"
            )
        return rates.seconds(prompt_tokens, output_tokens)

    def latency(self, spec: GraphSpec) -> float:
        """Estimated critical-path seconds from each node's call time (`call_seconds`) at the token profile."""
        from rolegraph.graphs.analysis import critical_path, in_degrees

        prof = self.profile
        per_node = {}
        for node_id, k in in_degrees(spec).items():
            n_p = prof.prompt_tokens + k * prof.output_tokens
            per_node[node_id] = self.call_seconds(spec.node(node_id).model, n_p, prof.output_tokens)
        return critical_path(spec, per_node)[0]

    def cost(self, spec: GraphSpec) -> float:
        """The graph's cost in the budget's unit."""
        if self.budget_kind == "dollars":
            return self.dollars(spec)
        if self.budget_kind == "latency":
            return self.latency(spec)
        return self.flops(spec)

    def fits(self, spec: GraphSpec) -> bool:
        """In budget, and every node's worst-case input within its model's context window (`space_context`)."""
        return (self.budget is None or self.cost(spec) <= self.budget * (1 + 1e-9)) and self.overflow(spec) is None

    def overflow(self, spec: GraphSpec) -> windows.Overflow | None:
        """The first node of `spec` whose worst-case call exceeds its model's context window (None: all fit)."""
        return windows.first_overflow(spec, self.pool, self._role_costs, self.question_tokens)

    def adopt_question_tokens(self, tokens: int) -> None:
        """Allow the task's longest question (`run_setup.check_startable`) in each node's prompt, not the default."""
        self.question_tokens, self.question_known = tokens, True
        windows.leave_out_unfit(self)
        windows.fit_stages(self)

    def _check_feasible(self) -> None:
        windows.leave_out_unfit(self)
        windows.fit_stages(self)
        if self.budget is None:
            return
        costs = {m: self.cost(self.single(m)) for m in self.models}
        fitting = tuple(m for m in self.models if costs[m] <= self.budget * (1 + 1e-9))
        if not fitting and self.stages:  # a staged graph is more than one node: one node's cost would mislead
            self._too_small_for_stages()
        if not fitting:
            cheapest = min(costs, key=costs.__getitem__)
            unit = BUDGET_UNITS[self.budget_kind]
            raise SearchError(
                f"budget {self.budget:g} {unit} is too small for any graph: the smallest feasible budget is "
                f"{costs[cheapest]:.4g} (one {cheapest} node)"
            )
        self.excluded = tuple(m for m in self.models if m not in fitting)
        self.models = fitting
        if self.stages:
            self._check_stages_feasible()

    def _check_stages_feasible(self) -> None:
        """Drop too-big models from each stage, and optional stages (width 0 allowed) none of whose models fits;
        the smallest staged graph must fit the budget."""
        from dataclasses import replace

        usable = tuple(st for st in self.stages if st.min_width > 0 or any(m in self.models for m in st.models))

        floor = self.smallest_feasible_budget()  # of the stages as given, before the budget prunes them

        def keep(ms: tuple[str, ...], where: str) -> tuple[str, ...]:
            kept = tuple(m for m in ms if m in self.models)
            if not kept:
                unit = BUDGET_UNITS[self.budget_kind]
                fit = f"none of its models ({', '.join(ms)}) fits the budget {self.budget:g} {unit} even alone"
                self._too_small_for_stages(floor, f"{where}: {fit}")
            return kept

        if not usable:  # every stage optional and none fits: a staged space needs one stage, so say the first's
            keep(self.stages[0].models, f"stage '{self.stages[0].name}'")
        self.stages = tuple(replace(st, models=keep(st.models, f"stage '{st.name}'")) for st in usable)
        self.max_nodes = stage_slots(self.stages) + 1  # a dropped stage's slots go with it
        out = self.staged_output
        self.stage_output = StageOutput(out.roles, keep(out.models, "the output node"))
        if not self.fits(self.smallest_staged()):
            self._too_small_for_stages(floor)

    def _too_small_for_stages(self, floor: float | None = None, what: str = "") -> NoReturn:
        """The one message for a budget too small for a staged space, whichever check found it (no single node fits,
        a stage's or the output's models do not fit alone: `what`, the smallest staged graph does not fit): each
        names the smallest feasible budget (`floor`, when the stages were pruned since), so the user knows what to
        ask for."""
        floor = self.smallest_feasible_budget() if floor is None else floor
        what = what or f"budget {self.budget:g} {BUDGET_UNITS[self.budget_kind]} is too small for the stages"
        raise SearchError(
            f"{what}: the smallest feasible budget is {floor:.4g} (the smallest staged graph: each stage at its "
            "smallest width and model)"
        )

    def smallest_staged(self) -> GraphSpec:
        """The cheapest graph of a staged space: every stage at its smallest width and model."""
        groups, nodes, slot = [], [], 0
        for st in self.stages:
            model = min(st.models, key=self.size)
            ids = [slot_id(slot + k) for k in range(st.min_width)]
            nodes += [NodeSpec(id=i, role=st.role, model=model) for i in ids]
            groups.append(ids)
            slot += st.max_width
        out = self.staged_output
        nodes.append(NodeSpec(id=OUTPUT_ID, role=self.output_roles[0], model=min(out.models, key=self.size)))
        return GraphSpec(name="smallest-staged", nodes=nodes, edges=stage_edges(groups, OUTPUT_ID), output=OUTPUT_ID)

    def smallest_feasible_budget(self) -> float:
        """The cost of the cheapest graph of the space: one node of its cheapest model, or in a staged space the
        smallest staged graph (its cheapest models are among the stages' models, whatever the budget excluded)."""
        if not self.stages:
            return min(self.cost(self.single(m)) for m in self.models)
        staged = self.cost(self.smallest_staged())
        if all(st.min_width == 0 for st in self.stages):  # every stage optional: one must still run (`keep`), so
            # its cheapest model must fit alone too, though the smallest staged graph is the output node only
            staged = max(staged, min(self.cost(self.single(m)) for st in self.stages for m in st.models))
        return staged

    # --- serialisation -----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return space_dict(self)

    @classmethod
    def from_dict(cls, data: dict, pool: ModelPool, registry: RoleRegistry | None = None) -> SearchSpace:
        """The space `to_dict` wrote (`registry`: the run's roles, when it used roles of its own)."""
        return cls(pool=pool, registry=registry, **space_fields(data))

    def describe(self) -> str:
        budget = "none" if self.budget is None else f"{self.budget:g} {BUDGET_UNITS[self.budget_kind]}"
        left_out = f" (left out, too big alone: {', '.join(self.excluded)})" if self.excluded else ""
        if self.window_excluded:
            left_out += f" (left out, one node exceeds its context window: {', '.join(self.window_excluded)})"
        if self.stages and self.stage_output is not None:
            shape = f"stages {describe_stages(self.stages, self.stage_output)}"
        else:
            shape = f"roles {', '.join(self.roles)}; up to {self.max_nodes} nodes"
        return (
            f"models {', '.join(self.models)}{left_out}; {shape}; budget {budget}; "
            f"objective {self.objective.describe()}"
        )
