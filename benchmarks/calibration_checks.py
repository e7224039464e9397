"""Calibration cells the sim was *not* fitted to: each compares a sim measurement with a reference the
literature (or the issue that reported the gap) gives, within a stated band.

Fitted cells (single models, the MATH mixes) are in `calibration.py`. These rows check behaviour
beyond the fit: weak ensembles on 4-option multiple choice, a mixed-size pair on code, a weaker
reviewer of one stronger answer, refinement by the same model, and the relation between a vote's
agreement and its correctness. Every graph is built as in the fitted cells (`graphgen.random_dag`,
`graphgen.chain`, `graphgen.fan`).
"""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from statistics import mean
from typing import Any

from benchmarks import graphgen as gg
from benchmarks.simexec import SimExecutor
from benchmarks.synthetic import exact_score, synthetic_items
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.items import Item
from rolegraph.sim.text import norm_answer

ITEM_SEED = 41
MIX_EDGE_P = gg.RANDOM_EDGE_P
VOTERS = 5
VOTE_TEMPERATURE = 0.7
MIN_BUCKET = 30  # agreement buckets with fewer items are shown but not checked
CHAIN_DEPTHS = (1, 2, 3, 4, 5, 6, 8)
REVIEW_BAND = (-0.04, 0.02)  # a weaker reviewer of one answer: from a small loss to no real gain
REFINE_BAND = (0.0, 0.05)  # a same-model chain at its best depth: at most a small gain (docs/sim.md)
MIX_TOLERANCE = 0.05
FUSE_BAND = (-0.02, 0.02)  # an LLM choosing among its own samples: within 2 points of their majority vote
FUSED_SAMPLES = 3

SOURCES = {
    "mc": "issue 14 and the self-consistency literature (Wang et al. 2023: +4-5 points on ARC/CSQA for the "
          "largest models with 40 samples; near-chance models share their errors): a weak ensemble on 4-option "
          "multiple choice is within 5 points of its single model (published 31)",
    "code": "issue 14 reports the sim's 3B + 1B code mix about 10 points above the paper's cell (the sim gave "
            "46.9): reference 37 (implied; the paper's released prompts with the cell were not found)",
    "review": "Huang et al. 2023 (intrinsic self-correction: GPT-3.5 GSM8K 75.9 -> 74.7 over two rounds, GPT-4 "
              "95.5 -> 89.0): a weaker node reviewing one stronger answer gains at most 2 points (it lost up to 4)",
    "refine": "assumption (docs/sim.md): refining by the same model gains at most 5 points at its best depth and "
              "falls past it (Self-Refine on math ~0; Huang et al. negative; the paper's depth optimum needs some gain)",
    "agreement": "Wang et al. 2023 / Aggarwal et al. 2023: accuracy rises with the majority's share of the votes",
    "fuse": "Chen et al. 2023 (universal self-consistency: an LLM choosing among its own samples matches majority "
            "voting on GSM8K and MATH, within about a point): a fuser reading three samples of its own model is "
            "within 2 points of their plurality",
}


def _acc(ex: SimExecutor, spec: GraphSpec, items: list[Item]) -> float:
    kind = items[0].family
    return mean(exact_score(ex.answer(spec, it, kind=kind), it) for it in items)


def _mix(ex: SimExecutor, models: list[str], items: list[Item], graphs: int, label: str) -> float:
    rng = random.Random(f"check:{label}:{MIX_EDGE_P}")
    return mean(_acc(ex, gg.random_dag(models, rng, edge_p=MIX_EDGE_P), items) for _ in range(graphs))


def _pair(author: str, reviewer: str, role: str) -> GraphSpec:
    nodes = [NodeSpec(id="a", role="solver", model=author), NodeSpec(id="r", role=role, model=reviewer)]
    return GraphSpec(name=f"review-{role}", nodes=nodes, edges=[("a", "r")])


def _row(cell: str, sim: float, reference: float, lo: float, hi: float, source: str) -> dict[str, Any]:
    return {"cell": cell, "sim": sim, "reference": reference, "band": [lo, hi], "source": source,
            "source_text": SOURCES[source],
            "within": reference + lo <= sim <= reference + hi}


def check_cells(ex: SimExecutor, items_n: int, graphs: int, depth_items: int) -> list[dict[str, Any]]:
    """The checked (not fitted) rows, each with its reference, band and source."""
    rows = []
    mmlu = synthetic_items("mmlu", items_n, seed=ITEM_SEED)
    for label, n in (("nine 1B nodes", 9), ("three 1B nodes", 3)):
        sim = _mix(ex, [gg.MODEL_1B] * n, mmlu, graphs, f"mmlu:{label}")
        rows.append(_row(f"mmlu {label}", sim, 0.31, -MIX_TOLERANCE, MIX_TOLERANCE, "mc"))
    code = synthetic_items("code", items_n, seed=ITEM_SEED)
    sim = _mix(ex, [gg.MODEL_3B, gg.MODEL_1B], code, graphs, "code:3B+1B")
    rows.append(_row("code 3B + 1B nodes", sim, 0.37, -MIX_TOLERANCE, MIX_TOLERANCE, "code"))
    math = synthetic_items("math", items_n, seed=ITEM_SEED)
    alone = _acc(ex, gg.chain(1, gg.MODEL_8B), math)
    for role in ("fuser", "verifier"):
        sim = _acc(ex, _pair(gg.MODEL_8B, gg.MODEL_3B, role), math)
        rows.append(_row(f"math 3B {role} reading one 8B answer (vs the 8B alone)", sim, alone, *REVIEW_BAND,
                         "review"))
    deep = synthetic_items("math", depth_items, seed=ITEM_SEED + 1)
    for model in (gg.MODEL_3B, gg.MODEL_8B):
        curve = [_acc(ex, gg.chain(d, model), deep) for d in CHAIN_DEPTHS]
        row = _row(f"math {gg.SHORT[model]} chain at its best depth (vs depth 1)", max(curve), curve[0],
                   *REFINE_BAND, "refine")
        row["curve"] = dict(zip(CHAIN_DEPTHS, curve))
        row["within"] = row["within"] and curve[-1] < max(curve)
        rows.append(row)
    return rows


def _sampled_fan(model: str, n: int, name: str) -> GraphSpec:
    """`n` solvers `s0..` of `model` at `VOTE_TEMPERATURE` into a fuser `out` of the same model."""
    nodes = [NodeSpec(id=f"s{i}", role="solver", model=model, params={"temperature": VOTE_TEMPERATURE})
             for i in range(n)]
    return GraphSpec(name=name, nodes=nodes + [NodeSpec(id="out", role="fuser", model=model)],
                     edges=[(f"s{i}", "out") for i in range(n)])


def tension_cells(ex: SimExecutor, items_n: int) -> list[dict[str, Any]]:
    """Rows the sim is known to miss, kept because a fitted cell needs the behaviour (the paper's three 3B
    nodes at 54% against one 8B at 49% need a reader that picks out a right answer: docs/sim.md, judging).
    Shown beside the checked rows with the same band arithmetic, and not part of the goal."""
    items = synthetic_items("math", items_n, seed=ITEM_SEED + 3)
    rows = []
    for model in (gg.MODEL_3B, gg.MODEL_8B):
        spec = _sampled_fan(model, FUSED_SAMPLES, "fused")
        fused, plural, any_right = [], [], []
        for it in items:
            answers = ex.answers(spec, it, kind="math")
            gold = norm_answer(it.gold, "math")
            votes = [norm_answer(answers[f"s{i}"], "math") for i in range(FUSED_SAMPLES)]
            plural.append(Counter(votes).most_common(1)[0][0] == gold)  # a tie: the first sample's answer
            fused.append(norm_answer(answers["out"], "math") == gold)
            any_right.append(gold in votes)
        row = _row(f"math {gg.SHORT[model]} fuser over {FUSED_SAMPLES} {gg.SHORT[model]} samples (vs their plurality)",
                   mean(fused), mean(plural), *FUSE_BAND, "fuse")
        row["any_right"] = mean(any_right)
        rows.append(row)
    return rows


def agreement(ex: SimExecutor, items_n: int, models: tuple[str, ...] = (gg.MODEL_1B, gg.MODEL_3B, gg.MODEL_8B)
              ) -> dict[str, Any]:
    """Per model: five solvers at temperature 0.7 on MATH-family items; for each majority share k/5, the
    share of items and how often the majority answer is right. Checked: accuracy rises with the share."""
    items = synthetic_items("math", items_n, seed=ITEM_SEED + 2)
    out: dict[str, Any] = {}
    for model in models:
        spec = _sampled_fan(model, VOTERS, "voters")
        buckets: dict[int, list[bool]] = defaultdict(list)
        single = []
        for it in items:
            answers = ex.answers(spec, it, kind="math")
            votes = Counter(norm_answer(answers[f"s{i}"], "math") for i in range(VOTERS))
            top, share = votes.most_common(1)[0]
            gold = norm_answer(it.gold, "math")
            buckets[share].append(top == gold)
            single.append(norm_answer(answers["s0"], "math") == gold)
        table = {k: {"items": len(v) / len(items), "majority_right": mean(v)} for k, v in sorted(buckets.items())}
        checked = [table[k]["majority_right"] for k in sorted(table) if len(buckets[k]) >= MIN_BUCKET]
        rising = all(a < b for a, b in zip(checked, checked[1:]))
        out[gg.SHORT[model]] = {"single": mean(single), "by_share": table, "rising": rising,
                                "within": rising and len(checked) >= 3}
    return out
