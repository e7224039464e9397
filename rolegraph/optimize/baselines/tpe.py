"""Bayesian optimisation with optuna's TPE over the same discrete choices the probabilistic graph
makes (presence, model and role per slot, every allowed edge, the output's model and role).

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

    def config(self) -> dict[str, Any]:
        return {"startup_trials": self.startup_trials}

    def _distributions(self) -> dict:
        from optuna.distributions import CategoricalDistribution

        sp = self.space
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

    def state_dict(self) -> dict[str, Any]:
        return {"trials": self.trials}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.trials = list(state.get("trials", []))
