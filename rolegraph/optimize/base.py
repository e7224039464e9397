"""The optimizer interface every search method shares, so the loop (and its accounting) is one.

Each iteration the loop asks `propose(iteration, count, rng)` for graphs, evaluates them all on
the same batch of training items (one item run per graph and item, counted alike for every
optimizer), and hands the results to `observe`. `start` may spend evaluations first (a pilot).
All state an optimizer carries between iterations goes through `state_dict`, so a checkpoint
restores it exactly; randomness comes only from the `rng` the loop derives from (seed, iteration).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from rolegraph.graphs.io import graph_hash
from rolegraph.graphs.isomorphism import structure_key
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.choices import Choices
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.trace import Evaluation

if TYPE_CHECKING:
    from rolegraph.optimize.loop import SearchContext

DEDUPE_DRAWS = 4
"""Draws per wanted graph when looking for distinct samples (a peaked distribution repeats itself)."""


@dataclass
class Proposal:
    graph: GraphSpec
    choices: Choices | None
    source: str = "sampled"
    meta: dict | None = None

    @property
    def hash(self) -> str:
        return graph_hash(self.graph)

    @property
    def structure(self) -> str:
        """Equal for isomorphic proposals (the same graph in other slots)."""
        return structure_key(self.graph)


class Optimizer:
    """Base class: override `propose`/`observe` (and `start`, the state methods if stateful)."""

    name = "optimizer"
    fixed_batch = False
    """True: every iteration uses the same items (exhaustive enumeration compares like with like)."""

    def __init__(self) -> None:
        self.space: SearchSpace | None = None
        self.seed = 0

    def bind(self, space: SearchSpace, seed: int) -> None:
        self.space = space
        self.seed = seed

    async def start(self, ctx: SearchContext) -> None:
        """Work before the first iteration (Agent-REINFORCE's pilot). Default: none."""

    def propose(self, iteration: int, count: int, rng: np.random.Generator) -> list[Proposal]:
        raise NotImplementedError

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


def distinct_samples(
    pg: ProbabilisticGraph, count: int, rng: np.random.Generator, seen: set[str] | None = None, source: str = "sampled"
) -> list[Proposal]:
    """Up to `count` samples of distinct structures (none in `seen`, a set of `Proposal.structure`
    keys), from a bounded number of draws: an isomorphic copy would be scored as the same graph."""
    taken = set(seen or ())
    out: list[Proposal] = []
    for _ in range(count * DEDUPE_DRAWS):
        if len(out) >= count:
            break
        c, spec = pg.sample_choices(rng)
        p = Proposal(spec, c, source)
        h = p.structure
        if h in taken:
            continue
        taken.add(h)
        out.append(p)
    return out
