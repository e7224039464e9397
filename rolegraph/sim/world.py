"""`SimWorld`: a seeded landscape for the simulated pool.

A search method tuned on one landscape can be judged only on others. A world is a seeded draw of
everything that shapes a landscape: each model's skill on each family (not monotone in size: a
small model may win a family), how strongly each role judges, follows and repairs, context
capacity, garbling, how much item difficulty models share and how concentrated their wrong answers
are (common distractors), prices, speeds and reply lengths.

A world holds *perturbations*, not the constants themselves: multipliers (1 in world 0) and shifts
(0 in world 0) that the modules owning each constant apply (`calibration` for skills, capacity,
length and speed; `rules` for the decision rules; `text` for wrong answers). World 0 is therefore
exactly the calibrated simulator, and a change to a base constant moves every world with it while
the draws stay put.

The generator is frozen: `GENERATOR` names it, and every draw is a hash of (GENERATOR, world,
parameter name, [model or role or family]), so a parameter added later draws without moving the
existing ones. Changing a range or a salt below is a new generator: bump `GENERATOR` and say so
in docs/sim.md, since searches tuned on worlds of the old one are then judged on different worlds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import RolegraphError
from rolegraph.sim.draws import normal_hash, unit_hash

GENERATOR = "world-v1"
CALIBRATED_WORLD = 0
MAX_WORLD = 1_000_000
FAMILIES = ("math", "mmlu", "code", "qa")
JUDGING_ROLES = ("solver", "verifier", "fuser", "other")
"""Roles with their own judge / follow / repair draws; any other role (a user's) draws as 'other'."""

# --- the generator's ranges (frozen with GENERATOR) ------------------------------------------------
FAMILY_SHIFT_SD = 0.35  # logits: a family is easier or harder for every model
FAMILY_SLOPE_RANGE = (0.6, 1.4)  # how steeply accuracy grows with size on a family (x the published slope)
MODEL_SKILL_SD = 0.45  # logits: one model's own luck on one family (lets a small model win a family)
JUDGE_RANGE = (0.6, 1.4)  # x the role's judging bonus
FOLLOW_SHIFT_SD = 0.6  # logits added to the role's chance to adopt the plurality
REPAIR_RANGE = (0.5, 1.5)  # x how readily a role re-solves instead of keeping what it reads
MAJORITY_RANGE = (0.5, 1.5)  # x the weight of votes when recognising a right candidate
LOAD_RANGE = (0.7, 1.3)  # x logits lost per unit of overload
READ_RANGE = (0.7, 1.3)  # x the exponent of the reading probability past capacity
MAX_OVERLOAD_RANGE = (0.8, 1.25)  # x the overload cap
CORRUPTION_SCALE_SD = 0.4  # log-normal spread of the garbling scale
CORRUPTION_SLOPE_RANGE = (0.6, 1.4)  # x how fast garbling grows with overload
CAPACITY_SD = 0.25  # log-normal spread of context capacity
CAPACITY_EXPONENT_RANGE = (0.0, 0.12)  # added to how fast capacity grows with size
SHARED_DIFFICULTY_RANGE = (-0.2, 0.2)  # added to the share of item difficulty every model shares
WRONG_SKEW_RANGE = (0.6, 1.6)  # exponent on the wrong-answer weights: > 1 concentrates errors on one distractor
PLAN_RANGE = (0.5, 1.5)  # x a plan's bonus, per family
EVIDENCE_RANGE = (0.7, 1.3)  # x the bonus of evidence containing the gold
FAMILY_VERBOSITY_RANGE = (0.75, 1.35)  # x reply length, per family
MODEL_VERBOSITY_SD = 0.12  # log-normal spread of a model's reply length
PRICE_SD = 0.5  # log-normal spread of a model's price
SPEED_SD = 0.3  # log-normal spread of a model's speed (prefill and decode)


class WorldError(RolegraphError):
    """A bad world number, or two worlds in one run."""


def check_world(index: object, source: str = "world") -> int:
    """`index` as a world number, or a one-line error naming where it came from."""
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= MAX_WORLD:
        raise WorldError(f"{source}: a world is an integer from 0 to {MAX_WORLD}, got {index!r}")
    return index


def resolve_world(*claims: tuple[int | None, str]) -> int:
    """The one world a run uses, from (world or None, where it was given) claims; 0 when none is given.

    Two claims that differ are an error: a run lives in one world."""
    given = [(check_world(w, where), where) for w, where in claims if w is not None]
    worlds = {w for w, _ in given}
    if len(worlds) > 1:
        said = ", ".join(f"{where} says world {w}" for w, where in given)
        raise WorldError(f"one run uses one world, but {said}")
    return given[0][0] if given else CALIBRATED_WORLD


def _uniform(lo_hi: tuple[float, float], u: float) -> float:
    lo, hi = lo_hi
    return lo + (hi - lo) * u


def _role_key(role: str) -> str:
    return role if role in JUDGING_ROLES else "other"


@dataclass(frozen=True)
class SimWorld:
    """One seeded landscape. `index` 0 is the calibrated world: every multiplier 1, every shift 0."""

    index: int

    @property
    def calibrated(self) -> bool:
        return self.index == CALIBRATED_WORLD

    # --- draws ------------------------------------------------------------------------------------
    def _u(self, name: str, *key: object) -> float:
        return unit_hash(GENERATOR, self.index, name, *key)

    def _z(self, name: str, *key: object) -> float:
        return normal_hash(GENERATOR, self.index, name, *key)

    def _scale(self, name: str, lo_hi: tuple[float, float], *key: object) -> float:
        return 1.0 if self.calibrated else _uniform(lo_hi, self._u(name, *key))

    def _lognormal(self, name: str, sd: float, *key: object) -> float:
        return 1.0 if self.calibrated else math.exp(sd * self._z(name, *key))

    # --- skills -----------------------------------------------------------------------------------
    def family_shift(self, family: str) -> float:
        return 0.0 if self.calibrated else FAMILY_SHIFT_SD * self._z("family-shift", family)

    def family_slope(self, family: str) -> float:
        return self._scale("family-slope", FAMILY_SLOPE_RANGE, family)

    def model_skill(self, model_id: str, family: str) -> float:
        return 0.0 if self.calibrated else MODEL_SKILL_SD * self._z("model-skill", model_id, family)

    # --- roles ------------------------------------------------------------------------------------
    def judge(self, role: str) -> float:
        return self._scale("judge", JUDGE_RANGE, _role_key(role))

    def follow_shift(self, role: str) -> float:
        return 0.0 if self.calibrated else FOLLOW_SHIFT_SD * self._z("follow", _role_key(role))

    def repair(self, role: str) -> float:
        return self._scale("repair", REPAIR_RANGE, _role_key(role))

    @property
    def majority(self) -> float:
        return self._scale("majority", MAJORITY_RANGE)

    # --- context and garbling ---------------------------------------------------------------------
    @property
    def load(self) -> float:
        return self._scale("load", LOAD_RANGE)

    @property
    def read(self) -> float:
        return self._scale("read", READ_RANGE)

    @property
    def max_overload(self) -> float:
        return self._scale("max-overload", MAX_OVERLOAD_RANGE)

    @property
    def corruption_scale(self) -> float:
        return self._lognormal("corruption-scale", CORRUPTION_SCALE_SD)

    @property
    def corruption_slope(self) -> float:
        return self._scale("corruption-slope", CORRUPTION_SLOPE_RANGE)

    @property
    def capacity(self) -> float:
        return self._lognormal("capacity", CAPACITY_SD)

    @property
    def capacity_exponent_shift(self) -> float:
        return 0.0 if self.calibrated else _uniform(CAPACITY_EXPONENT_RANGE, self._u("capacity-exponent"))

    # --- shared errors ----------------------------------------------------------------------------
    @property
    def shared_difficulty_shift(self) -> float:
        return 0.0 if self.calibrated else _uniform(SHARED_DIFFICULTY_RANGE, self._u("shared-difficulty"))

    def wrong_skew(self, family: str) -> float:
        return self._scale("wrong-skew", WRONG_SKEW_RANGE, family)

    # --- inputs -----------------------------------------------------------------------------------
    def plan(self, family: str) -> float:
        return self._scale("plan", PLAN_RANGE, family)

    @property
    def evidence(self) -> float:
        return self._scale("evidence", EVIDENCE_RANGE)

    # --- tokens, prices, speed --------------------------------------------------------------------
    def verbosity(self, model_id: str, family: str) -> float:
        if self.calibrated:
            return 1.0
        return self._scale("family-verbosity", FAMILY_VERBOSITY_RANGE, family) * self._lognormal(
            "model-verbosity", MODEL_VERBOSITY_SD, model_id
        )

    def price(self, model_id: str) -> float:
        return self._lognormal("price", PRICE_SD, model_id)

    def speed(self, model_id: str) -> float:
        return self._lognormal("speed", SPEED_SD, model_id)

    def place(self, spec: ModelSpec) -> ModelSpec:
        """`spec` (a world-0 sim spec) as it is in this world: its world set and its prices drawn.
        Skills, capacity, lengths and speed are read from `spec.world` where they are used."""
        if spec.backend != "sim" or spec.world == self.index:
            return spec
        if spec.world != CALIBRATED_WORLD:
            raise WorldError(
                f"model '{spec.id}' is already in world {spec.world}; it cannot move to world {self.index}"
            )
        factor = self.price(spec.id)
        return spec.model_copy(
            update={"world": self.index, "price_in": spec.price_in * factor, "price_out": spec.price_out * factor}
        )

    def describe(self) -> dict[str, Any]:
        """The world's model-independent draws, for reports and JSON (per-model draws depend on the pool)."""
        return {
            "world": self.index,
            "generator": GENERATOR,
            "family_shift": {f: round(self.family_shift(f), 4) for f in FAMILIES},
            "family_slope": {f: round(self.family_slope(f), 4) for f in FAMILIES},
            "judge": {r: round(self.judge(r), 4) for r in JUDGING_ROLES},
            "follow_shift": {r: round(self.follow_shift(r), 4) for r in JUDGING_ROLES},
            "repair": {r: round(self.repair(r), 4) for r in JUDGING_ROLES},
            "wrong_skew": {f: round(self.wrong_skew(f), 4) for f in FAMILIES},
            "plan": {f: round(self.plan(f), 4) for f in FAMILIES},
            **{
                name: round(getattr(self, name), 4)
                for name in (
                    "majority",
                    "load",
                    "read",
                    "max_overload",
                    "corruption_scale",
                    "corruption_slope",
                    "capacity",
                    "capacity_exponent_shift",
                    "shared_difficulty_shift",
                    "evidence",
                )
            },
        }


@lru_cache(maxsize=256)
def world(index: int) -> SimWorld:
    """The world numbered `index` (0: the calibrated one). Worlds are values: the same index, the same world."""
    return SimWorld(check_world(index))
