"""The sim's token log-probability: a per-sample confidence, correlated with being right at a published level.

Real endpoints (OpenAI, vLLM, llama.cpp's server) return token log-probabilities when asked, and how sure a
model is of its reply predicts, moderately, whether the reply is right (Kadavath et al. 2022; Plaut et al.
2024 report answer-probability AUROCs of about 0.6-0.7 for chat LLMs on multiple-choice Q&A; self-evaluation
anchors reach about 0.8). The sim gives each reply a latent confidence

    z = s(A) * (+1/2 if the reply's answer is right else -1/2) + sqrt(r) * item + sqrt(1 - r) * own

with `item` a normal shared by all samples of one model on one item (an item a model finds confusing stays
confusing across samples) and `own` the sample's own normal, r = ITEM_SHARE. Over items, right and wrong
replies are then two unit-variance normals s(A) apart: AUROC = Phi(s(A) / sqrt 2), far from an oracle.
For a model of single-model accuracy A on the family it is TARGET_AUROC from A >= REFERENCE_ACCURACY on, and
shrinks towards chance (0.5) in proportion below it: weaker models tell their right answers from their wrong
ones less well (Plaut et al. find correctness prediction rising with task accuracy, near chance for the
weakest models). z maps monotonically to a mean token log-probability in the range real 7-8B chat models show
on chain-of-thought replies (about -0.1 to -0.8). The draws are hashes of their own (rolegraph/sim/draws.py), so
asking for log-probabilities changes no answer, and the same seed gives the same value. docs/sim.md,
"Log-probabilities", states the assumption.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

from rolegraph.chat.types import Completion
from rolegraph.sim.draws import normal_hash
from rolegraph.sim.text import CHARS_PER_TOKEN

TARGET_AUROC = 0.72  # between Plaut et al.'s 0.6-0.7 (answer probabilities) and 0.8 (self-evaluation anchors)
REFERENCE_ACCURACY = 0.5  # single-model accuracy from which a model reaches TARGET_AUROC (an 8B on math)
CHANCE_AUROC = 0.5
ITEM_SHARE = 0.5  # share of z's noise variance that one model's samples on one item share
TYPICAL_LOGPROB = -0.3  # the mean token log-probability at z = 0
LOGPROB_SPREAD = 0.5  # log-scale change per unit of z: z = +-2 gives about -0.11 / -0.82
_ITEM_WEIGHT, _OWN_WEIGHT = math.sqrt(ITEM_SHARE), math.sqrt(1.0 - ITEM_SHARE)


def auroc_for(accuracy: float) -> float:
    """The AUROC of a model's log-probability for its own correctness, given its single-model accuracy."""
    share = min(1.0, max(0.0, accuracy) / REFERENCE_ACCURACY)
    return CHANCE_AUROC + (TARGET_AUROC - CHANCE_AUROC) * share


def separation(accuracy: float) -> float:
    """The gap between right and wrong replies' mean z (in units of z's spread) that gives `auroc_for`."""
    return math.sqrt(2.0) * NormalDist().inv_cdf(auroc_for(accuracy))


def confidence_z(
    right: bool | None, accuracy: float, model_id: str, family: str, item_id: str, *sample_parts: object
) -> float:
    """The latent confidence of one reply by a model of single-model `accuracy` on the family. `right` None: the
    reply has no answer to be right about (a plan, queries): noise only, centred between right and wrong.
    `sample_parts` identify the sample (seed, sample index, role, messages' digest): each request has its own."""
    centre = 0.0 if right is None else separation(accuracy) * (0.5 if right else -0.5)
    item = normal_hash("confidence-item", model_id, family, item_id)
    own = normal_hash("confidence-own", model_id, family, item_id, *sample_parts)
    return centre + _ITEM_WEIGHT * item + _OWN_WEIGHT * own


def mean_logprob(z: float) -> float:
    """The mean token log-probability of a reply with latent confidence `z` (increasing in z, always < 0)."""
    return TYPICAL_LOGPROB * math.exp(-LOGPROB_SPREAD * z)


def openai_logprobs(out: Completion) -> dict[str, Any] | None:
    """The OpenAI `logprobs` object of a sim reply: one entry per (approximate, four-character) token, each at
    the reply's mean log-probability (the sim models only the mean: rolegraph/sim/confidence.py)."""
    if out.logprob is None:
        return None
    step = CHARS_PER_TOKEN
    pieces = [out.text[i : i + step] for i in range(0, len(out.text), step)] or [""]
    return {
        "content": [
            {"token": p, "logprob": out.logprob, "bytes": list(p.encode()), "top_logprobs": []} for p in pieces
        ],
        "refusal": None,
    }
