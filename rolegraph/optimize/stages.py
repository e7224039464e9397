"""Staged spaces (AgentTTS-style): a fixed pipeline of stages, e.g. plan -> search -> solve, whose
model and width (parallel samples) are searched, read by one output node.

Every node of a stage reads every node of the previous non-empty stage (the first stage reads the
question only) and the output node reads the last non-empty stage. A stage's width is the number
of its nodes (0 skips the stage when allowed); by default they all run one model (`same_model`: the
stage samples one model k times, as AgentTTS searches "model and budget per stage").

The representation is the free-form space's own: each stage owns `max(widths)` consecutive worker
slots whose role is fixed, whose models are limited to the stage's, and whose edges are decided by
the stages, not sampled. `ChoiceMasks` tells the probabilistic graph which choices are open, so every
optimizer that works on slots (random, REINFORCE, Agent-REINFORCE's updates and proposals) searches a
staged space unchanged; TPE and exhaustive enumeration draw the stage choices directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from rolegraph.errors import SearchError

MAX_STAGE_WIDTH = 16
T = TypeVar("T")


@dataclass(frozen=True)
class Stage:
    """One stage: its role, the models it may run, the widths it may take."""

    name: str
    role: str
    models: tuple[str, ...]
    widths: tuple[int, ...] = (1,)
    same_model: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(dict.fromkeys(self.models)))
        object.__setattr__(self, "widths", tuple(sorted(set(int(w) for w in self.widths))))
        if not self.models:
            raise SearchError(f"stage '{self.name}' has no models")
        if not self.widths or self.widths[0] < 0 or self.widths[-1] > MAX_STAGE_WIDTH:
            raise SearchError(f"stage '{self.name}': widths must be between 0 and {MAX_STAGE_WIDTH}")
        if self.widths[-1] < 1:
            raise SearchError(f"stage '{self.name}': width 0 only would never run the stage; allow a width >= 1")

    @property
    def max_width(self) -> int:
        return self.widths[-1]

    @property
    def min_width(self) -> int:
        return self.widths[0]

    def nearest_width(self, k: int) -> int:
        """The allowed width closest to k (the smaller one on a tie)."""
        return min(self.widths, key=lambda w: (abs(w - k), w))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "models": list(self.models),
            "widths": list(self.widths),
            "same_model": self.same_model,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stage:
        return cls(
            name=data["name"],
            role=data["role"],
            models=tuple(data["models"]),
            widths=tuple(data["widths"]),
            same_model=bool(data.get("same_model", True)),
        )


@dataclass(frozen=True)
class StageOutput:
    """The output node of a staged space: the roles and models it may take."""

    roles: tuple[str, ...]
    models: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"roles": list(self.roles), "models": list(self.models)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageOutput:
        return cls(roles=tuple(data["roles"]), models=tuple(data["models"]))


def slot_ranges(stages: tuple[Stage, ...]) -> list[range]:
    """The worker slots of each stage, in order (stage s owns `max_width` consecutive slots)."""
    out, start = [], 0
    for stage in stages:
        out.append(range(start, start + stage.max_width))
        start += stage.max_width
    return out


def stage_slots(stages: tuple[Stage, ...]) -> int:
    return sum(s.max_width for s in stages)


@dataclass(frozen=True)
class ChoiceMasks:
    """Which choices are open, per slot (True = allowed); edges that are not free are decided by the
    space (not sampled, not learned)."""

    models: np.ndarray  # (W, M) bool
    roles: np.ndarray  # (W, R) bool
    out_model: np.ndarray  # (M,) bool
    out_role: np.ndarray  # (Ro,) bool
    edges_free: np.ndarray  # (P,) bool


def staged_masks(
    stages: tuple[Stage, ...],
    output: StageOutput,
    models: tuple[str, ...],
    worker_roles: tuple[str, ...],
    output_roles: tuple[str, ...],
    edge_count: int,
) -> ChoiceMasks:
    w = stage_slots(stages)
    model_mask = np.zeros((w, len(models)), dtype=bool)
    role_mask = np.zeros((w, len(worker_roles)), dtype=bool)
    for stage, slots in zip(stages, slot_ranges(stages)):
        allowed = [models.index(m) for m in stage.models]
        for i in slots:
            model_mask[i, allowed] = True
            role_mask[i, worker_roles.index(stage.role)] = True
    out_model = np.array([m in output.models for m in models], dtype=bool)
    out_role = np.array([r in output.roles for r in output_roles], dtype=bool)
    return ChoiceMasks(model_mask, role_mask, out_model, out_role, np.zeros(edge_count, dtype=bool))


def describe_stages(stages: tuple[Stage, ...], output: StageOutput) -> str:
    """'plan: planner x{0,1} of 3b|8b -> search: ...' (what `SearchSpace.describe` prints)."""

    def short(ms: tuple[str, ...]) -> str:
        return "|".join(m.split("/")[-1] for m in ms)

    parts = [
        f"{s.name}: {s.role} x{{{','.join(str(w) for w in s.widths)}}} of {short(s.models)}"
        + ("" if s.same_model else " (mixed)")
        for s in stages
    ]
    parts.append(f"output: {'|'.join(output.roles)} of {short(output.models)}")
    return " -> ".join(parts)


def stage_edges(groups: list[list[T]], out_id: T) -> list[tuple[T, T]]:
    """Edges of a staged graph: each non-empty stage's nodes read all of the previous non-empty
    stage's; the output reads the last non-empty stage."""
    layers = [g for g in groups if g] + [[out_id]]
    return [(a, b) for prev, nxt in zip(layers, layers[1:]) for a in prev for b in nxt]
