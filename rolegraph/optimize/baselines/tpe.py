"""Bayesian optimisation with optuna's TPE over the same discrete choices the probabilistic graph
makes (presence, model and role per slot, every allowed edge, the output's model and role); in a
staged space, each stage's width and model (one per node if the stage mixes models) and the output's.

The study is rebuilt each iteration from the stored (params, value) pairs with a sampler seeded by
(seed, iteration), so a resumed search asks exactly the questions an uninterrupted one would.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.choices import Choices, edge_pairs, realise
from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.proposal import Proposal
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.stages import slot_ranges
from rolegraph.optimize.trace import Evaluation

SEED_RANGE = 2**31 - 1
STARTUP_TRIALS = 10
BOOL = (0, 1)


class TPESearch(Optimizer):
    name = "tpe"

    def __init__(self, startup_trials: int = STARTUP_TRIALS):
        super().__init__()
        self.startup_trials = startup_trials
        self.trials: list[dict[str, Any]] = []
        self._asked: list[tuple[GraphSpec, dict]] = []

    def bind(self, space: SearchSpace, seed: int) -> None:
        """Each search starts clean: trials told by an earlier search on this object (maybe over another
        space, whose parameters optuna would reject) must not steer this one. A checkpoint or a warm start
        adds its own trials after this."""
        super().bind(space, seed)
        self.trials = []
        self._asked = []

    def config(self) -> dict[str, Any]:
        return {"startup_trials": self.startup_trials}

    def _distributions(self) -> dict:
        from optuna.distributions import CategoricalDistribution

        sp = self.space
        if sp.stages:
            return _staged_distributions(sp)
        dists = {}
        for i in range(sp.worker_slots):
            dists[f"present_{i}"] = CategoricalDistribution(BOOL)
            dists[f"model_{i}"] = CategoricalDistribution(sp.models)
            dists[f"role_{i}"] = CategoricalDistribution(sp.worker_roles)
        for i, j in edge_pairs(sp.worker_slots, sp.worker_edges):
            dists[f"edge_{i}_{j}"] = CategoricalDistribution(BOOL)
        dists["out_model"] = CategoricalDistribution(sp.models)
        dists["out_role"] = CategoricalDistribution(sp.output_roles)
        return dists

    def _choices(self, params: dict) -> Choices:
        sp = self.space
        if sp.stages:
            return _staged_choices(sp, params)
        w = sp.worker_slots
        return Choices(
            present=tuple(bool(params[f"present_{i}"]) for i in range(w)),
            models=tuple(sp.models.index(params[f"model_{i}"]) for i in range(w)),
            roles=tuple(sp.worker_roles.index(params[f"role_{i}"]) for i in range(w)),
            edges=tuple(bool(params[f"edge_{i}_{j}"]) for i, j in edge_pairs(w, sp.worker_edges)),
            out_model=sp.models.index(params["out_model"]),
            out_role=sp.output_roles.index(params["out_role"]),
        )

    def propose(self, iteration: int, count: int, rng: np.random.Generator) -> list[Proposal]:
        import optuna
        from optuna.samplers import TPESampler

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        dists = self._distributions()
        sampler = TPESampler(seed=int(rng.integers(SEED_RANGE)), n_startup_trials=self.startup_trials)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        for t in self.trials:
            study.add_trial(optuna.trial.create_trial(params=t["params"], distributions=dists, value=t["value"]))
        out: list[Proposal] = []
        self._asked = []
        for _ in range(count):
            trial = study.ask(dists)
            params = dict(trial.params)
            c, spec = realise(self.space, self._choices(params), "tpe")
            self._asked.append((spec, params))
            p = Proposal(spec, c, "tpe", {"params": params})
            if all(p.hash != q.hash for q in out):  # the same graph twice: evaluated once, told twice
                out.append(p)
        return out

    async def observe(self, iteration: int, evaluations: list[Evaluation], ctx: SearchContext) -> None:
        """Tell TPE every point it asked for. The loop scores isomorphic proposals once (under the
        structure's canonical hash), so each asked graph is matched to its structure's evaluation."""
        value = {e.record.graph_hash: e.objective for e in evaluations}
        for spec, params in self._asked:
            h = ctx.canonical_hash(spec)
            if h in value:
                self.trials.append({"params": params, "value": value[h]})
        self._asked = []

    def warm_start(self, pg, evidence: list[Evaluation]) -> bool:  # noqa: ANN001 - the base signature
        """An earlier run's scores become trials (TPE keeps no distribution to adopt)."""
        for e in evidence:
            if e.choices is not None:
                self.trials.append({"params": self._params(e.choices), "value": e.objective})
        return False

    def _params(self, c: Choices) -> dict[str, Any]:
        """The TPE parameters of choices (the inverse of `_choices` on what realise keeps)."""
        sp = self.space
        if sp.stages:
            return _staged_params(sp, c)
        w = sp.worker_slots
        params: dict[str, Any] = {}
        for i in range(w):
            params[f"present_{i}"] = int(c.present[i])
            params[f"model_{i}"] = sp.models[c.models[i]]
            params[f"role_{i}"] = sp.worker_roles[c.roles[i]]
        for (i, j), e in zip(edge_pairs(w, sp.worker_edges), c.edges):
            params[f"edge_{i}_{j}"] = int(e)
        params["out_model"] = sp.models[c.out_model]
        params["out_role"] = sp.output_roles[c.out_role]
        return params

    def state_dict(self) -> dict[str, Any]:
        return {"trials": self.trials}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.trials = list(state.get("trials", []))


def _staged_distributions(sp: SearchSpace) -> dict:
    from optuna.distributions import CategoricalDistribution

    dists = {}
    for s, stage in enumerate(sp.stages):
        dists[f"width_{s}"] = CategoricalDistribution(stage.widths)
        names = [f"model_{s}"] if stage.same_model else [f"model_{s}_{k}" for k in range(stage.max_width)]
        for name in names:
            dists[name] = CategoricalDistribution(stage.models)
    dists["out_model"] = CategoricalDistribution(sp.staged_output.models)
    dists["out_role"] = CategoricalDistribution(sp.output_roles)
    return dists


def _staged_choices(sp: SearchSpace, params: dict) -> Choices:
    """Choices of a staged space: the first `width` slots of each stage present (realise does the rest)."""
    w = sp.worker_slots
    present, models = [False] * w, [0] * w
    for s, (stage, slots) in enumerate(zip(sp.stages, slot_ranges(sp.stages))):
        for k, i in enumerate(slots):
            present[i] = k < int(params[f"width_{s}"])
            name = f"model_{s}" if stage.same_model else f"model_{s}_{k}"
            models[i] = sp.models.index(params[name])
    return Choices(
        present=tuple(present),
        models=tuple(models),
        roles=tuple([0] * w),
        edges=tuple(False for _ in edge_pairs(w, sp.worker_edges)),
        out_model=sp.models.index(params["out_model"]),
        out_role=sp.output_roles.index(params["out_role"]),
    )


def _staged_params(sp: SearchSpace, c: Choices) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for s, (stage, slots) in enumerate(zip(sp.stages, slot_ranges(sp.stages))):
        on = [i for i in slots if c.present[i]]
        params[f"width_{s}"] = len(on)
        first = sp.models[c.models[on[0]]] if on else stage.models[0]
        if stage.same_model:
            params[f"model_{s}"] = first
            continue
        for k in range(stage.max_width):  # present nodes first, as _staged_choices reads them
            params[f"model_{s}_{k}"] = sp.models[c.models[on[k]]] if k < len(on) else first
    params["out_model"] = sp.models[c.out_model]
    params["out_role"] = sp.output_roles[c.out_role]
    return params
