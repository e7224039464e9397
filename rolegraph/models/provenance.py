"""What answered: the label of a run (simulated, partly simulated, real) and where its answers came from.

A label is read from the replies themselves, never from configuration alone: serve-sim marks each of
its chat completions (`"rolegraph": {"simulated": true, "fingerprint": ...}`), the in-process sim marks
its `Completion`s, and every other reply is real. A run whose replies mix both is "partly simulated".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

Simulation = Literal["simulated", "partly simulated", "real"]
SIMULATED: Simulation = "simulated"
PARTLY: Simulation = "partly simulated"
REAL: Simulation = "real"


def simulation_of(flags: Iterable[bool | None]) -> Simulation | None:
    """The label of replies that were simulated (True) or real (False); None entries (nothing answered)
    are left out, and None comes back when nothing answered at all."""
    seen = {bool(f) for f in flags if f is not None}
    if not seen:
        return None
    if seen == {True}:
        return SIMULATED
    return REAL if seen == {False} else PARTLY


def stored_simulation(label: object, simulated: object) -> Simulation:
    """A label as a store or file kept it; records made before the three-way label kept only whether they were
    simulated (then: any sim model), so an unknown label falls back to that flag."""
    for known in (SIMULATED, PARTLY, REAL):
        if label == known:
            return known
    return SIMULATED if simulated else REAL


def combine(labels: Iterable[Simulation | None]) -> Simulation | None:
    """The label of several runs: all simulated, all real, or partly simulated."""
    seen = {label for label in labels if label is not None}
    if not seen:
        return None
    return next(iter(seen)) if len(seen) == 1 else PARTLY


class ServedBy(BaseModel):
    """What answered one pool model's calls, as its replies said."""

    served_model: str | None = Field(default=None, description="the model id the server returned")
    simulated: bool = False
    sim_fingerprint: str | None = Field(default=None, description="the simulator's fingerprint, for sim replies")

    def merged(self, other: ServedBy) -> ServedBy:
        """Two observations of one pool model: a field seen in either is kept; simulated if either was."""
        return ServedBy(
            served_model=self.served_model or other.served_model,
            simulated=self.simulated or other.simulated,
            sim_fingerprint=self.sim_fingerprint or other.sim_fingerprint,
        )


def merge_served(parts: Iterable[dict[str, ServedBy]]) -> dict[str, ServedBy]:
    out: dict[str, ServedBy] = {}
    for part in parts:
        for model_id, seen in part.items():
            out[model_id] = out[model_id].merged(seen) if model_id in out else seen
    return out


class ModelProvenance(ServedBy):
    """One pool model of a run: the pool entry's identity beside what its replies said."""

    backend: str
    api_name: str
    endpoint: str | None = None  # base_url (never a key)
    gguf_sha256: str | None = None  # the local model's weights file


class NodeSampling(BaseModel):
    """The sampling parameters one node's calls were made with."""

    model: str
    temperature: float
    max_tokens: int


class Provenance(BaseModel):
    """Where a run's (or an evaluation's) answers came from, enough to tell two results apart."""

    rolegraph_version: str
    simulation: Simulation
    seed: int = 0
    models: dict[str, ModelProvenance] = Field(default_factory=dict)
    sampling: dict[str, NodeSampling] = Field(default_factory=dict)


def label_suffix(simulation: Simulation | None) -> str:
    """ " (simulated)" or " (partly simulated)" after a title or a figure; nothing for real results."""
    return "" if simulation in (None, REAL) else f" ({simulation})"


def shows_simulation(labels: Iterable[Simulation | None]) -> bool:
    """Whether any of these results needs the "not claims about real models" note."""
    return any(label not in (None, REAL) for label in labels)
