"""The optimizer interface every search method shares, so the loop (and its accounting) is one.

Each iteration the loop asks `propose(iteration, count, rng)` for graphs, evaluates them all on
the same batch of training items (one item run per graph and item, counted alike for every
optimizer), and hands the results to `observe`. `start` may spend evaluations first (a pilot).
All state an optimizer carries between iterations goes through `state_dict`, so a checkpoint
restores it exactly; randomness comes only from the `rng` the loop derives from (seed, iteration).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rolegraph.optimize.context import SearchContext
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.proposal import Proposal  # noqa: F401 (its propose() returns these)
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.trace import Evaluation


class Optimizer:
    """Base class: override `propose`/`observe` (and `start`, the state methods if stateful)."""

    name = "optimizer"
    fixed_batch = False
    """True: every iteration uses the same items (exhaustive enumeration compares like with like)."""

    pg: ProbabilisticGraph | None
    """The learned distribution of a method that keeps one (set in its `bind`); unset on the others."""

    def __init__(self) -> None:
        self._space: SearchSpace | None = None
        self.seed = 0

    def bind(self, space: SearchSpace, seed: int) -> None:
        self._space = space
        self.seed = seed

    @property
    def space(self) -> SearchSpace:
        """The space given to `bind`; every other method runs after it."""
        if self._space is None:
            raise RuntimeError(f"optimizer '{self.name}' used before bind(space, seed)")
        return self._space

    @property
    def bound_pg(self) -> ProbabilisticGraph:
        """`pg` of a method that keeps a distribution, once `bind` has made it."""
        pg = getattr(self, "pg", None)
        if pg is None:
            raise RuntimeError(f"optimizer '{self.name}' has no distribution before bind(space, seed)")
        return pg

    async def start(self, ctx: SearchContext) -> None:
        """Work before the first iteration (Agent-REINFORCE's pilot). Default: none."""

    def propose(self, iteration: int, count: int, rng: np.random.Generator) -> list[Proposal]:
        raise NotImplementedError

    learns_distribution = True
    """False for methods whose distribution is fixed by design (random search samples the uniform one)."""

    def warm_start(self, pg: ProbabilisticGraph | None, evidence: list[Evaluation]) -> bool:
        """Begin from an earlier run (`--init-from`) instead of from scratch: `pg` is its distribution
        mapped onto this space (None if it had none), `evidence` its scores, already in the trace.
        Default: a method that keeps a learned distribution in `self.pg` adopts `pg`. Returns True when a
        distribution was adopted (the loop then skips `start`, e.g. Agent-REINFORCE's pilot)."""
        if pg is None or not self.learns_distribution or getattr(self, "pg", None) is None:
            return False
        self.pg = pg
        return True

    async def observe(self, iteration: int, evaluations: list[Evaluation], ctx: SearchContext) -> None:
        """Learn from this iteration's evaluations. Default: nothing (random search)."""

    @property
    def finished(self) -> bool:
        return False

    @property
    def finite(self) -> bool:
        """True if the method ends by itself (exhaustive enumeration) without an iteration count."""
        return False

    def distribution(self) -> ProbabilisticGraph | None:
        """The current probabilistic graph, if the method has one (for reports)."""
        return None

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def config(self) -> dict[str, Any]:
        """Constructor arguments, so a resumed run rebuilds the same optimizer."""
        return {}

    def feedback_agent_name(self) -> str | None:
        return None
