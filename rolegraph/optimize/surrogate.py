"""`GraphSurrogate`: a Gaussian-process belief about the objective of every graph of a space, from the
graphs scored so far.

Why: a search spends a few thousand item runs on a space of hundreds of graphs, so most graphs are
never scored, and each scored one is known to a few points only. What carries information between
graphs is that similar graphs score alike: the same worker models in other proportions, the same
output model, one worker more or less. The surrogate encodes only that (a squared-exponential kernel
on a graph's composition, `features`), with no belief about which model or size is better: those come
from the data of this search alone (the pilot first), so it holds in any world where similar graphs
score alike. In a staged space the workers are read stage by stage (`staged_workers`), since what the
space searches is each stage's model and width. It gives every candidate graph a mean and a standard
deviation; the feedback agent proposes by them (Thompson sampling) and moves the probabilistic graph
toward the graphs it believes best.

Observations are each graph's pooled, batch-adjusted objective with noise variance p(1-p)/n (n items);
the prior mean is the item-weighted mean of the observations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.stage_feedback import stage_features

LENGTH_SCALE = 0.6
"""Kernel length scale on `features` (when not adapted)."""
SIGNAL_SD = 0.12
"""Prior spread of graph objectives around their mean (accuracies of a space's graphs span ~0.1-0.2)."""
ADDITIVE = 0.9
"""Share of the kernel that is additive over the two parts of a graph (its workers, its output node): how much
of what is learnt about an output model carries over to other workers, and the other way round."""
MIN_NOISE_VAR = 0.02 / 16
"""Noise floor per graph (a graph at 0% or 100% on few items is not known exactly)."""
JITTER = 1e-9
LENGTH_GRID = (0.2, 0.35, 0.6, 1.0)
SIGNAL_GRID = (0.04, 0.08, 0.12, 0.2)
ADDITIVE_GRID = (0.0, 0.5, 0.9)
"""Hyperparameters tried when adapting: the triple with the highest marginal likelihood of the scores is
used (empirical Bayes), so how far similarity carries, how much graphs differ and how separately workers
and output act are read off each landscape, not assumed."""
ADAPT_MIN_GRAPHS = 6


def features(space: SearchSpace, spec: GraphSpec) -> np.ndarray | None:
    """A graph's composition as a vector: first its workers, then its output node (model and role, one-hot).

    Free-form space: the workers' model counts and role counts over the worker slots, the width, the
    worker-to-worker edge density. A staged space is read stage by stage (`staged_workers`): pooled over the
    slots, a 1B searcher beside a 3B solver and a 3B searcher beside a 1B solver were one point to the belief.
    None for a graph that is not a graph of the space's stages (it then teaches the belief nothing)."""
    if space.stages:
        block = staged_workers(space, spec)
        return None if block is None else np.concatenate([block, _output_block(space, spec)])
    out = spec.output_id()
    workers = [n for n in spec.nodes if n.id != out]
    w = max(space.worker_slots, 1)
    models = np.zeros(len(space.models))
    roles = np.zeros(len(space.worker_roles))
    for n in workers:
        if n.model in space.models:
            models[space.models.index(n.model)] += 1.0 / w
        if n.role in space.worker_roles:
            roles[space.worker_roles.index(n.role)] += 1.0 / w
    k = len(workers)
    inner = sum(1 for _, d in spec.edges if d != out)
    pairs = k * (k - 1) / 2
    shape = np.array([k / w, inner / pairs if pairs else 0.0])
    role_block = roles if len(space.worker_roles) > 1 else np.zeros(0)
    return np.concatenate([models, role_block, shape, _output_block(space, spec)])


def staged_workers(space: SearchSpace, spec: GraphSpec) -> np.ndarray | None:
    """The workers of a staged graph: per stage, its nodes' model counts over the worker slots (its model share
    times its width, over the slots), then each stage's width over the slots; None off the stages.

    Why over the slots, as the free-form counts are: a worker changing model moves a graph as far as it does in a
    free-form space, so the kernel's length scale means the same; summed over the stages the counts are the
    free-form model counts, and the widths the free-form role counts of distinct stage roles. What a stage
    decides for itself (its edges, its role) is left out: it follows from the widths."""
    read = stage_features(space, spec)
    if read is None:
        return None
    w = max(space.worker_slots, 1)
    counts = [share * width / w for share, width in zip(read["models"], read["widths"])]
    return np.concatenate([*counts, np.asarray(read["widths"], dtype=float) / w])


def _output_block(space: SearchSpace, spec: GraphSpec) -> np.ndarray:
    """The output node's model, one-hot, then its role, one-hot when the space offers more than one."""
    node = spec.node(spec.output_id())
    out_model = np.zeros(len(space.models))
    if node.model in space.models:
        out_model[space.models.index(node.model)] = 1.0
    out_role = np.zeros(len(space.output_roles))
    if node.role in space.output_roles:
        out_role[space.output_roles.index(node.role)] = 1.0
    return np.concatenate([out_model, out_role if len(space.output_roles) > 1 else np.zeros(0)])


def output_part(space: SearchSpace) -> int:
    """How many trailing entries of `features` describe the output node."""
    return len(space.models) + (len(space.output_roles) if len(space.output_roles) > 1 else 0)


class GraphSurrogate:
    """GP regression of the objective on `features`; `fit` once per step, `predict` for candidates.

    Kernel: signal_var * (additive * (k_workers + k_output) / 2 + (1 - additive) * k_workers * k_output),
    each k a squared exponential of its part's distance (one length scale)."""

    def __init__(
        self, space: SearchSpace, length_scale: float | None = None, signal_sd: float | None = None, adapt: bool = False
    ):
        self.space = space
        self.adapt = adapt
        self.length_scale = LENGTH_SCALE if length_scale is None else length_scale
        self.signal_var = (SIGNAL_SD if signal_sd is None else signal_sd) ** 2
        self.additive = ADDITIVE
        self._split = -output_part(space)
        self._x: np.ndarray | None = None
        self._alpha: np.ndarray | None = None
        self._chol: np.ndarray | None = None
        self.mean = 0.0

    def _distances(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        diff = (a[:, None, :] - b[None, :, :]) ** 2
        return diff[..., : self._split].sum(-1), diff[..., self._split :].sum(-1)

    def _kernel_d(self, d2: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        scale = -0.5 / self.length_scale**2
        kw, ko = np.exp(scale * d2[0]), np.exp(scale * d2[1])
        return self.signal_var * (self.additive * (kw + ko) / 2 + (1 - self.additive) * kw * ko)

    def _kernel(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._kernel_d(self._distances(a, b))

    def encode(self, graphs: Sequence[GraphSpec]) -> np.ndarray:
        """`features` of each graph; a graph off a staged space's stages has none, so it is refused here rather
        than encoded as something it is not (`features` tells the caller which graphs to leave out)."""
        rows = [features(self.space, g) for g in graphs]
        off = [g.name for g, x in zip(graphs, rows) if x is None]
        if off:
            raise ValueError(f"not graphs of the space's stages, so the surrogate cannot encode them: {off}")
        return np.array(rows)

    def fit(self, graphs: Sequence[GraphSpec], values: Sequence[float], items: Sequence[int]) -> GraphSurrogate:
        """Condition on each graph's observed objective over `items` item runs."""
        return self.fit_x(self.encode(graphs), values, items)

    def fit_x(self, x: np.ndarray, values: Sequence[float], items: Sequence[int]) -> GraphSurrogate:
        """`fit` on graphs already encoded (rows of `x`)."""
        y = np.asarray(values, dtype=float)
        n = np.maximum(np.asarray(items, dtype=float), 1.0)
        self.mean = float((y * n).sum() / n.sum()) if len(y) else 0.0
        if not len(y):
            self._x = None
            return self
        p = np.clip(y, 0.0, 1.0)
        noise = np.maximum(p * (1 - p), MIN_NOISE_VAR * 16) / n
        self._x = np.asarray(x, dtype=float)
        d2 = self._distances(self._x, self._x)
        if self.adapt and len(y) >= ADAPT_MIN_GRAPHS:
            grid = [(ls, sd * sd, a) for ls in LENGTH_GRID for sd in SIGNAL_GRID for a in ADDITIVE_GRID]
            best = max(grid, key=lambda h: self._evidence(d2, y, noise, h))
            self.length_scale, self.signal_var, self.additive = best
        self._condition(d2, y, noise)
        return self

    def _condition(self, d2: tuple[np.ndarray, np.ndarray], y: np.ndarray, noise: np.ndarray) -> float:
        """Condition on (y, noise) under the current hyperparameters; returns the log marginal likelihood."""
        k = self._kernel_d(d2) + np.diag(noise + JITTER)
        self._chol = np.linalg.cholesky(k)
        self._alpha = np.linalg.solve(self._chol.T, np.linalg.solve(self._chol, y - self.mean))
        return float(-0.5 * (y - self.mean) @ self._alpha - np.log(np.diag(self._chol)).sum())

    def _evidence(self, d2, y: np.ndarray, noise: np.ndarray, hyper: tuple[float, float, float]) -> float:
        self.length_scale, self.signal_var, self.additive = hyper
        return self._condition(d2, y, noise)

    def predict_x(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, standard deviation) of the objective at encoded graphs `x`."""
        if self._x is None or self._chol is None:
            return np.full(len(x), self.mean), np.full(len(x), np.sqrt(self.signal_var))
        ks = self._kernel(x, self._x)
        mu = self.mean + ks @ self._alpha
        v = np.linalg.solve(self._chol, ks.T)
        var = np.maximum(self.signal_var - (v * v).sum(0), 0.0)
        return mu, np.sqrt(var)

    def predict(self, graphs: Sequence[GraphSpec]) -> tuple[np.ndarray, np.ndarray]:
        return self.predict_x(self.encode(graphs))

    def sample_x(self, x: np.ndarray, rng: np.random.Generator, draws: int) -> np.ndarray:
        """`draws` joint samples of the objective at encoded graphs `x` from the posterior, shape (draws, len(x)):
        what Thompson sampling ranks by (a graph is picked as often as it is believed to be the best)."""
        mu, _ = self.predict_x(x)
        cov = self._kernel(x, x)
        if self._x is not None and self._chol is not None:
            v = np.linalg.solve(self._chol, self._kernel(self._x, x))
            cov = cov - v.T @ v
        vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
        root = vecs * np.sqrt(np.clip(vals, 0.0, None))
        return mu + rng.standard_normal((draws, len(x))) @ root.T
