"""`ProbabilisticGraph`: independent distributions over every choice of a `SearchSpace`.

Per worker slot: P(present) (sigmoid of a logit), a softmax over models and one over roles; per
allowed edge (lower slot -> higher slot or output): a sigmoid; the output node: softmaxes over
models and answering roles. `sample(rng)` draws `Choices` and repairs them into a valid graph.
`score_function(choices)` is d log p / d logits, the REINFORCE direction, for active choices only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.choices import Choices, edge_pairs, realise
from rolegraph.optimize.space import OUTPUT_ID, SearchSpace, slot_id
from rolegraph.optimize.stages import slot_ranges

INIT_PRESENCE = 0.5
INIT_WORKER_EDGE = 0.25
INIT_OUTPUT_EDGE = 0.5
PROB_FLOOR = 0.01
"""Probabilities are kept in [floor, 1 - floor] so no choice is ever ruled out for good."""


def _logit(p: float) -> float:
    p = min(max(p, PROB_FLOOR), 1 - PROB_FLOOR)
    return float(np.log(p / (1 - p)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _closed(logits: np.ndarray, allowed: np.ndarray | None) -> np.ndarray:
    """Logits with closed choices at -inf (their softmax probability is exactly 0)."""
    return logits if allowed is None else np.where(allowed, logits, -np.inf)


def softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


@dataclass
class Logits:
    """All parameters, as arrays (the shape every optimizer updates)."""

    presence: np.ndarray  # (W,)
    models: np.ndarray  # (W, M)
    roles: np.ndarray  # (W, R)
    edges: np.ndarray  # (P,)
    out_model: np.ndarray  # (M,)
    out_role: np.ndarray  # (Ro,)

    FIELDS = ("presence", "models", "roles", "edges", "out_model", "out_role")

    def arrays(self) -> list[np.ndarray]:
        return [getattr(self, f) for f in self.FIELDS]

    def copy(self) -> Logits:
        return Logits(*(a.copy() for a in self.arrays()))

    def zeros_like(self) -> Logits:
        return Logits(*(np.zeros_like(a) for a in self.arrays()))


class ProbabilisticGraph:
    """Distributions over the space's graphs. Serialisable with `to_dict` / `from_dict`."""

    def __init__(self, space: SearchSpace, logits: Logits | None = None):
        self.space = space
        self.pairs = edge_pairs(space.worker_slots, space.worker_edges)
        self.masks = space.masks()  # a staged space closes some choices (rolegraph.optimize.stages)
        self.logits = logits if logits is not None else self._initial()

    def _initial(self) -> Logits:
        w, m, r, ro = (
            self.space.worker_slots,
            len(self.space.models),
            len(self.space.worker_roles),
            len(self.space.output_roles),
        )
        edges = np.array([_logit(INIT_OUTPUT_EDGE if j == w else INIT_WORKER_EDGE) for _i, j in self.pairs])
        return Logits(
            presence=np.full(w, _logit(INIT_PRESENCE)),
            models=np.zeros((w, m)),
            roles=np.zeros((w, r)),
            edges=edges.reshape(len(self.pairs)),
            out_model=np.zeros(m),
            out_role=np.zeros(ro),
        )

    # --- probabilities ----------------------------------------------------------------------------
    def probs(self) -> Logits:
        """Probabilities of every choice; a closed choice (the space's masks) has probability 0."""
        lg = self.logits
        mk = self.masks
        return Logits(
            presence=sigmoid(lg.presence),
            models=softmax(_closed(lg.models, mk.models if mk else None)),
            roles=softmax(_closed(lg.roles, mk.roles if mk else None)),
            edges=sigmoid(lg.edges),
            out_model=softmax(_closed(lg.out_model, mk.out_model if mk else None)),
            out_role=softmax(_closed(lg.out_role, mk.out_role if mk else None)),
        )

    def edge_index(self, src: int, dst: int) -> int | None:
        try:
            return self.pairs.index((src, dst))
        except ValueError:
            return None

    # --- sampling ---------------------------------------------------------------------------------
    def draw(self, rng: np.random.Generator) -> Choices:
        """Raw choices (before repair), one uniform per choice in a fixed order."""
        p = self.probs()
        w = self.space.worker_slots
        present = tuple(bool(rng.random() < p.presence[i]) for i in range(w))
        models = tuple(int(rng.choice(len(self.space.models), p=p.models[i])) for i in range(w))
        roles = tuple(int(rng.choice(len(self.space.worker_roles), p=p.roles[i])) for i in range(w))
        edges = tuple(bool(rng.random() < p.edges[k]) for k in range(len(self.pairs)))
        out_model = int(rng.choice(len(self.space.models), p=p.out_model))
        out_role = int(rng.choice(len(self.space.output_roles), p=p.out_role))
        return Choices(present, models, roles, edges, out_model, out_role)

    def sample(self, rng: np.random.Generator, name: str = "sampled") -> GraphSpec:
        """A valid graph: acyclic, every node reaches the output, inside the budget."""
        return self.sample_choices(rng, name)[1]

    def sample_choices(self, rng: np.random.Generator, name: str = "sampled") -> tuple[Choices, GraphSpec]:
        return realise(self.space, self.draw(rng), name)

    def mode(self, name: str = "mode") -> tuple[Choices, GraphSpec]:
        """The most probable choices, repaired (what the distribution 'believes in')."""
        p = self.probs()
        c = Choices(
            present=tuple(bool(x >= 0.5) for x in p.presence),
            models=tuple(int(np.argmax(row)) for row in p.models),
            roles=tuple(int(np.argmax(row)) for row in p.roles),
            edges=tuple(bool(x >= 0.5) for x in p.edges),
            out_model=int(np.argmax(p.out_model)),
            out_role=int(np.argmax(p.out_role)),
        )
        return realise(self.space, c, name)

    # --- REINFORCE --------------------------------------------------------------------------------
    def active(self, c: Choices) -> Logits:
        """1 where a parameter took part in producing `c` (absent slots' models/roles/edges did not)."""
        w = self.space.worker_slots
        pres = np.array(c.present, dtype=float)
        edge_on = np.array([pres[i] * (1.0 if j == w else pres[j]) for i, j in self.pairs])
        if self.masks is not None:  # edges the space decides took no part in the draw
            edge_on = edge_on * self.masks.edges_free
        return Logits(
            presence=np.ones(w),
            models=np.repeat(pres[:, None], self.logits.models.shape[1], axis=1),
            roles=np.repeat(pres[:, None], self.logits.roles.shape[1], axis=1),
            edges=edge_on.reshape(len(self.pairs)),
            out_model=np.ones_like(self.logits.out_model),
            out_role=np.ones_like(self.logits.out_role),
        )

    def score_function(self, c: Choices) -> Logits:
        """d log p(c) / d logits: (indicator - probability) on active choices, 0 elsewhere."""
        p = self.probs()
        mask = self.active(c)
        ind = self.indicators(c)
        return Logits(*((i - q) * a for i, q, a in zip(ind.arrays(), p.arrays(), mask.arrays())))

    def indicators(self, c: Choices) -> Logits:
        """One-hot / 0-1 encoding of `c` in the shape of the parameters."""
        w, m, r = self.space.worker_slots, len(self.space.models), len(self.space.worker_roles)
        models = np.zeros((w, m))
        roles = np.zeros((w, r))
        for i in range(w):
            models[i, c.models[i]] = 1.0
            roles[i, c.roles[i]] = 1.0
        out_model = np.zeros(m)
        out_model[c.out_model] = 1.0
        out_role = np.zeros(len(self.space.output_roles))
        out_role[c.out_role] = 1.0
        return Logits(
            presence=np.array(c.present, dtype=float),
            models=models,
            roles=roles,
            edges=np.array(c.edges, dtype=float).reshape(len(self.pairs)),
            out_model=out_model,
            out_role=out_role,
        )

    def log_prob(self, c: Choices) -> float:
        p = self.probs()
        mask = self.active(c)
        total = 0.0
        for i, present in enumerate(c.present):
            total += float(np.log(p.presence[i] if present else 1 - p.presence[i]))
            if present:
                total += float(np.log(p.models[i, c.models[i]]) + np.log(p.roles[i, c.roles[i]]))
        for k, e in enumerate(c.edges):
            if mask.edges[k]:
                total += float(np.log(p.edges[k] if e else 1 - p.edges[k]))
        return total + float(np.log(p.out_model[c.out_model]) + np.log(p.out_role[c.out_role]))

    # --- setting probabilities --------------------------------------------------------------------
    def set_bernoulli(self, which: str, index: int, prob: float) -> None:
        getattr(self.logits, which)[index] = _logit(prob)

    def set_categorical(self, which: str, probs: np.ndarray, row: int | None = None) -> None:
        floored = np.clip(probs, PROB_FLOOR / len(probs), None)
        logits = np.log(floored / floored.sum())
        target = getattr(self.logits, which)
        if row is None:
            target[:] = logits
        else:
            target[row] = logits

    # --- (de)serialisation and display --------------------------------------------------------------
    def to_dict(self) -> dict:
        return {f: a.tolist() for f, a in zip(Logits.FIELDS, self.logits.arrays())}

    @classmethod
    def from_dict(cls, space: SearchSpace, data: dict) -> ProbabilisticGraph:
        pg = cls(space)
        arrays = []
        for f, ref in zip(Logits.FIELDS, pg.logits.arrays()):
            arr = np.array(data[f], dtype=float).reshape(ref.shape)
            arrays.append(arr)
        pg.logits = Logits(*arrays)
        return pg

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, space: SearchSpace, text: str) -> ProbabilisticGraph:
        return cls.from_dict(space, json.loads(text))

    def table(self, top_edges: int | None = None) -> str:
        """Human-readable probabilities: one row per slot, then edges (most likely first)."""
        p = self.probs()
        sp = self.space
        short = [m.split("/")[-1] for m in sp.models]
        lines = ["slot  P(present)  models                               roles"]
        # a slot of a stage with one allowed width is run whatever its presence (the sampler rounds the count of
        # present slots to an allowed width): its probability would be a figure with no effect
        fixed = {i for st, slots in zip(sp.stages, slot_ranges(sp.stages)) if len(st.widths) == 1 for i in slots}
        for i in range(sp.worker_slots):
            models = " ".join(f"{s}={p.models[i, k]:.2f}" for k, s in enumerate(short))
            roles = " ".join(f"{r}={p.roles[i, k]:.2f}" for k, r in enumerate(sp.worker_roles))
            present = f"{'fixed':>10}" if i in fixed else f"{p.presence[i]:>10.2f}"
            lines.append(f"{slot_id(i):<5} {present}  {models}  |  {roles}")
        models = " ".join(f"{s}={p.out_model[k]:.2f}" for k, s in enumerate(short))
        roles = " ".join(f"{r}={p.out_role[k]:.2f}" for k, r in enumerate(sp.output_roles))
        lines.append(f"{OUTPUT_ID:<5} {'1.00':>10}  {models}  |  {roles}")
        if self.masks is not None and not self.masks.edges_free.any():
            lines.append("edges: decided by the stages (each stage reads the previous non-empty one)")
            return "\n".join(lines)
        order = sorted(range(len(self.pairs)), key=lambda k: (-p.edges[k], k))
        if top_edges is not None:
            order = order[:top_edges]
        w = sp.worker_slots
        edges = [
            f"{slot_id(i)}->{OUTPUT_ID if j == w else slot_id(j)}={p.edges[k]:.2f}"
            for k in order
            for i, j in [self.pairs[k]]
        ]
        lines.append("edges: " + (", ".join(edges) if edges else "(none)"))
        return "\n".join(lines)

    def node_id(self, index: int) -> str:
        return OUTPUT_ID if index == self.space.worker_slots else slot_id(index)

    def node_index(self, node_id: str) -> int | None:
        if node_id == OUTPUT_ID:
            return self.space.worker_slots
        if node_id.startswith("n") and node_id[1:].isdigit() and int(node_id[1:]) < self.space.worker_slots:
            return int(node_id[1:])
        return None
