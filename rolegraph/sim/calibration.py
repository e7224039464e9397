"""Calibration of the simulated pool: skills fitted to published accuracies, context capacity,
verbosity and speed as functions of model size. The equations are written out in docs/sim.md.

A model's skill on a family is a logit `theta`; an item's difficulty is `delta ~ N(0, TOTAL_SD)`
seeded by the item id; a lone solver is right with probability sigmoid(theta - delta). `theta` is
fitted so that the mean over items equals the model's accuracy in its world: the published
single-model accuracy in world 0, a seeded perturbation of it in other worlds (`rolegraph.sim.world`).
Every function here reads the world from the spec (`spec.world`, set by the pool).
"""

from __future__ import annotations

import bisect
import math
from functools import lru_cache
from types import MappingProxyType

from rolegraph.chat.spec import ModelSpec
from rolegraph.sim.draws import normal_quantile, unit_hash
from rolegraph.sim.world import SimWorld, world

REFERENCE_PARAMS_B = 1.24  # LLaMA-3.2-1B: the unit of size (and of the FLOPs budget)

# Published single-model accuracies (Wang, Chen et al. 2025, pilot tables), keyed by params (B):
# LLaMA-3.2-1B, 3.2-3B, 3.1-8B, 3.1-70B. "qa" (HotpotQA closed-book EM) is not in the paper:
# it is our assumption, documented as such in docs/sim.md.
PUBLISHED_ACCURACY = MappingProxyType(
    {
        "math": ((1.24, 0.31), (3.21, 0.40), (8.03, 0.49), (70.6, 0.68)),
        "mmlu": ((1.24, 0.31), (3.21, 0.43), (8.03, 0.64), (70.6, 0.84)),
        "code": ((1.24, 0.31), (3.21, 0.48), (8.03, 0.60), (70.6, 0.68)),
        "qa": ((1.24, 0.14), (3.21, 0.22), (8.03, 0.30), (70.6, 0.42)),
    }
)

DIFFICULTY_SD = 0.8  # spread of item difficulty (logits) shared by all models: what is hard for all
MODEL_ITEM_SD = 0.7  # per (model, item) idiosyncrasy: why diverse models err on different items
TOTAL_SD = math.hypot(DIFFICULTY_SD, MODEL_ITEM_SD)
ACCURACY_FLOOR, ACCURACY_CEIL = 0.02, 0.98
WORLD_ACCURACY_FLOOR, WORLD_ACCURACY_CEIL = 0.05, 0.95  # a perturbed world keeps every model off the extremes
SHARED_SHARE = DIFFICULTY_SD**2 / TOTAL_SD**2  # world 0's share of difficulty variance every model shares
SHARED_SHARE_BOUNDS = (0.2, 0.9)

# Context capacity: tokens of input a model reads without degrading; grows with size.
CAPACITY_TOKENS_1B = 650
CAPACITY_EXPONENT = 0.02

# Verbosity: generated tokens per role call for a 1B model; larger models are a bit terser.
OUTPUT_TOKENS = MappingProxyType({"math": 200, "mmlu": 60, "code": 110, "qa": 40})
VERBOSITY_EXPONENT = -0.08
MIN_OUTPUT_TOKENS = 8  # the shortest reply a simulated model writes, however terse its world makes it
QUADRATURE_POINTS = 400  # quantiles of item difficulty averaged over when mapping a skill logit to accuracy
THETA_BRACKET = 12.0  # skill logits searched in [-12, 12]: sigmoid(12) is within 1e-5 of certainty
BISECTION_STEPS = 60  # halvings of that bracket: far below float resolution, so the fit is exact

# Speed (modelled seconds): time to first token plus prefill, then decode.
DECODE_TOK_PER_S_1B = 180.0
DECODE_SPEED_EXPONENT = 0.6
TTFT_S = 0.04
PREFILL_TOK_PER_S_1B = 6000.0


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def difficulty_sds(w: SimWorld) -> tuple[float, float]:
    """(shared, model-specific) spreads of item difficulty in world `w`; their hypot is always TOTAL_SD,
    so fitted skills hold in every world while how much models err together changes."""
    if w.calibrated:
        return DIFFICULTY_SD, MODEL_ITEM_SD
    lo, hi = SHARED_SHARE_BOUNDS
    share = min(hi, max(lo, SHARED_SHARE + w.shared_difficulty_shift))
    return TOTAL_SD * math.sqrt(share), TOTAL_SD * math.sqrt(1.0 - share)


def item_difficulty(item_id: str, family: str, model_id: str, w: SimWorld | None = None) -> float:
    """Seeded difficulty (logits) of an item for a model: a part shared by every model (hard items
    are hard for all) plus a part specific to the model (so diverse models err on different items)."""
    shared_sd, own_sd = difficulty_sds(w or world(0))
    shared = shared_sd * normal_quantile(unit_hash("difficulty", family, item_id))
    own = own_sd * normal_quantile(unit_hash("quirk", family, item_id, model_id))
    return shared + own


def _mean_accuracy(theta: float) -> float:
    """E over delta ~ N(0, TOTAL_SD) of sigmoid(theta - delta), by midpoint quadrature on quantiles."""
    n = QUADRATURE_POINTS
    total = 0.0
    for i in range(n):
        z = normal_quantile((i + 0.5) / n)
        total += sigmoid(theta - TOTAL_SD * z)
    return total / n


@lru_cache(maxsize=256)
def fit_theta(accuracy: float) -> float:
    """The skill logit whose mean accuracy over item difficulties equals `accuracy` (bisection)."""
    accuracy = min(max(accuracy, ACCURACY_FLOOR), ACCURACY_CEIL)
    lo, hi = -THETA_BRACKET, THETA_BRACKET
    for _ in range(BISECTION_STEPS):
        mid = (lo + hi) / 2
        if _mean_accuracy(mid) < accuracy:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def interpolated_accuracy(family: str, params_b: float) -> float:
    """Published accuracy at the published sizes; between them linear in (log size, logit acc)."""
    table = PUBLISHED_ACCURACY.get(family, PUBLISHED_ACCURACY["math"])
    sizes = [math.log(s) for s, _ in table]
    logits = [logit(a) for _, a in table]
    x = math.log(params_b)
    if x <= sizes[0]:
        i = 0
    elif x >= sizes[-1]:
        i = len(sizes) - 2
    else:
        i = bisect.bisect_right(sizes, x) - 1
    slope = (logits[i + 1] - logits[i]) / (sizes[i + 1] - sizes[i])
    y = logits[i] + slope * (x - sizes[i])
    return min(max(sigmoid(y), ACCURACY_FLOOR), ACCURACY_CEIL)


def model_params(spec: ModelSpec) -> float:
    return spec.params_b or REFERENCE_PARAMS_B


def base_accuracy(spec: ModelSpec, family: str) -> float:
    """World 0's accuracy: the spec's own `sim_accuracy`, else the published table at its size."""
    if spec.sim_accuracy and family in spec.sim_accuracy:
        return spec.sim_accuracy[family]
    return interpolated_accuracy(family, model_params(spec))


@lru_cache(maxsize=16)
def family_centre(family: str) -> float:
    """Mean logit of the family's published accuracies: the pivot a world's size slope turns around."""
    table = PUBLISHED_ACCURACY.get(family, PUBLISHED_ACCURACY["math"])
    return sum(logit(a) for _, a in table) / len(table)


def single_accuracy(spec: ModelSpec, family: str) -> float:
    """A lone solver's accuracy on the family in the spec's world.

    In world N > 0 the base accuracy's logit is turned around the family's centre by the world's slope
    (size matters more or less), shifted for the whole family, and shifted again for this model alone
    (so a smaller model can beat a larger one), then kept within WORLD_ACCURACY_FLOOR..CEIL."""
    base = base_accuracy(spec, family)
    w = world(spec.world)
    if w.calibrated:
        return base
    centre = family_centre(family)
    y = centre + w.family_slope(family) * (logit(base) - centre)
    y += w.family_shift(family) + w.model_skill(spec.id, family)
    return min(max(sigmoid(y), WORLD_ACCURACY_FLOOR), WORLD_ACCURACY_CEIL)


def skill(spec: ModelSpec, family: str) -> float:
    return fit_theta(round(single_accuracy(spec, family), 6))


def capacity_tokens(spec: ModelSpec) -> float:
    w = world(spec.world)
    exponent = CAPACITY_EXPONENT + w.capacity_exponent_shift
    return CAPACITY_TOKENS_1B * w.capacity * (model_params(spec) / REFERENCE_PARAMS_B) ** exponent


def output_tokens(spec: ModelSpec, family: str) -> int:
    base = OUTPUT_TOKENS.get(family, OUTPUT_TOKENS["math"]) * world(spec.world).verbosity(spec.id, family)
    return max(MIN_OUTPUT_TOKENS, int(base * (model_params(spec) / REFERENCE_PARAMS_B) ** VERBOSITY_EXPONENT))


def latency_s(spec: ModelSpec, tokens_in: int, tokens_out: int) -> float:
    """Modelled seconds for one call: time to first token, prefill, then decode (x the world's speed)."""
    scale = model_params(spec) / REFERENCE_PARAMS_B
    speed = world(spec.world).speed(spec.id)
    prefill = tokens_in * scale / (PREFILL_TOK_PER_S_1B * speed)
    decode_rate = DECODE_TOK_PER_S_1B * speed * scale ** (-DECODE_SPEED_EXPONENT)
    return TTFT_S + prefill + tokens_out / decode_rate
