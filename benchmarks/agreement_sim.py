"""Sample agreement in the simulator: `python -m benchmarks agreement_sim [--quick] [--world N]`.

How alike repeated samples of one sim model on one item are (docs/sim.md, "Sample correlation"): for each
family (math, mmlu, code) and model (1B, 3B, 8B), five solvers at temperature 0.7 on the same items; the share
of items whose first 2, 3 and 5 samples all agree, one sample's accuracy against the majority of five's,
accuracy when two samples agree and when they do not, and for each majority share k/5 the share of items,
how often the majority is right and the share tied. Compared in docs/sim.md with published self-consistency
figures (Wang et al. 2023, ESC: Li et al. 2024, Adaptive-Consistency: Aggarwal et al. 2023) and the real local
model (`python -m benchmarks agreement_real`). All results simulated.

Two readings of a tie, each for what it measures. The majority-of-five accuracy is self-consistency's plurality
vote (Wang et al. 2023), which must answer: a tie goes to the tied answer sampled first, a random tie-break since
the samples are exchangeable (`plurality`). The per-share buckets ask how often the majority is right when k of 5
agree, as the real twins do (`agreement_real.majority`, shared with `agreement_real` and `routing`'s real section
so sim and real figures are comparable): a tie for the top count (2-2-1, 1-1-1-1-1) has no majority answer and
counts under its top share as not right, and as tied. An unanswered sample votes for nothing in both. Files
written before 2026-12-05 (the one of f86b5c1 included) broke ties by the first sample in the buckets too and
counted an unanswered sample as a vote; their JSON has no `tie_rule`.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from statistics import mean
from typing import Annotated, Any

import typer

from benchmarks import graphgen as gg
from benchmarks.agreement_real import TIE_RULE, majority
from benchmarks.common import BenchRun, table
from benchmarks.options import world_number
from benchmarks.simexec import SimExecutor
from benchmarks.synthetic import synthetic_items
from rolegraph.evaluate.report import NO_SIGN, pct
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.settings import Settings
from rolegraph.sim.text import norm_answer

FAMILIES = ("math", "mmlu", "code")
MODELS = (gg.MODEL_1B, gg.MODEL_3B, gg.MODEL_8B)
SAMPLES = 5
UNANIMITY = (2, 3, 5)
TEMPERATURE = 0.7
ITEM_SEED = 99
PLURALITY_RULE = "the commonest answer, a tie going to the tied answer sampled first (random tie-break)"
FULL, QUICK = {"items": 1000}, {"items": 40}


def options(
    world: Annotated[int | None, typer.Option(parser=world_number, metavar="N",
                                              help="Sim world (default 0, the calibrated one).")] = None,
) -> dict[str, Any]:
    """The command line's own options (`python -m benchmarks agreement_sim --help`), as `run`'s keywords."""
    return locals()


def _vote(model: str) -> GraphSpec:
    nodes = [NodeSpec(id=f"s{i}", role="solver", model=model, params={"temperature": TEMPERATURE})
             for i in range(SAMPLES)]
    return GraphSpec(name="vote", nodes=[*nodes, NodeSpec(id="out", role="fuser", model=model)],
                     edges=[(f"s{i}", "out") for i in range(SAMPLES)])


def plurality(forms: list[str | None]) -> str | None:
    """Self-consistency's vote: the commonest answer, a tie going to the tied answer sampled first (the samples
    are exchangeable, so this is a random tie-break); None when no sample answered."""
    votes = Counter(f for f in forms if f is not None)
    if not votes:
        return None
    top = max(votes.values())
    return next(f for f in forms if f is not None and votes[f] == top)


def measure(ex: SimExecutor, family: str, model: str, n: int) -> dict[str, Any]:
    spec = _vote(model)
    single, by_majority, two_agree, two_split = [], [], [], []
    unanimous: dict[int, list[bool]] = defaultdict(list)
    by_share: dict[int, list[tuple[bool, bool]]] = defaultdict(list)  # (majority right, tied) per item
    for it in synthetic_items(family, n, seed=ITEM_SEED):
        answers = ex.answers(spec, it, kind=family)
        forms = [norm_answer(answers[f"s{i}"], family) for i in range(SAMPLES)]
        gold = norm_answer(it.gold, family)
        top, share, tied = majority(forms)
        right = top is not None and top == gold
        single.append(forms[0] == gold)
        voted = plurality(forms)
        by_majority.append(voted is not None and voted == gold)
        by_share[share].append((right, tied))
        (two_agree if forms[0] == forms[1] else two_split).append(forms[0] == gold)
        for k in UNANIMITY:
            unanimous[k].append(len(set(forms[:k])) == 1)
    return {"family": family, "model": gg.SHORT[model], "single": mean(single), "majority": mean(by_majority),
            "unanimous": {k: mean(v) for k, v in unanimous.items()},
            "right_if_two_agree": mean(two_agree) if two_agree else None,
            "right_if_two_split": mean(two_split) if two_split else None,
            "by_share": {k: {"items": len(v) / n, "majority_right": mean(r for r, _ in v),
                             "tied": sum(t for _, t in v) / n}
                         for k, v in sorted(by_share.items())}}


def result_stem(world: int | None) -> str | None:
    """The result files' name: None (`agreement_sim.*`) for world 0, else `agreement_sim-w<N>`, so a run on another
    world never overwrites the calibrated world's files."""
    return f"agreement_sim-w{world}" if world else None


def run(quick: bool = False, out_dir: Path | None = None, world: int | None = None,
        bench_run: BenchRun | None = None) -> dict[str, Any]:
    bench_run = bench_run or BenchRun()
    cfg = QUICK if quick else FULL
    ex = SimExecutor(Settings(home=bench_run.scratch_home(), cache=False), world=world)
    rows = [measure(ex, f, m, cfg["items"]) for f in FAMILIES for m in MODELS]
    text = f"World {world or 0}, {cfg['items']} items per family, {SAMPLES} solvers at temperature {TEMPERATURE} " \
           "(simulated).\n\n" + table(
        ["family", "model", "one sample %", f"majority of {SAMPLES} %"]
        + [f"first {k} agree %" for k in UNANIMITY]
        + ["right if 2 agree %", "right if 2 differ %", "k/5: items %, right % (tied: % of items)"],
        [[r["family"], r["model"], pct(r["single"], NO_SIGN), pct(r["majority"], NO_SIGN)]
         + [pct(r["unanimous"][k], NO_SIGN) for k in UNANIMITY]
         + [pct(r["right_if_two_agree"], NO_SIGN), pct(r["right_if_two_split"], NO_SIGN),
            "; ".join(f"{k}/5: {pct(v['items'], NO_SIGN)}, {pct(v['majority_right'], NO_SIGN)}"
                      + (f" (tied: {pct(v['tied'], NO_SIGN)})" if v["tied"] else "")
                      for k, v in r["by_share"].items())]
         for r in rows]) + f"\n\nMajority of {SAMPLES}: {PLURALITY_RULE}. Per share k/5: {TIE_RULE}."
    payload = {"world": world or 0, "config": cfg, "tie_rule": TIE_RULE, "majority_rule": PLURALITY_RULE,
               "rows": rows, "simulated": True}
    bench_run.write_result("agreement_sim", payload, text, out_dir=out_dir, quick=quick,
                           options=f"--world {world}" if world else "", file_stem=result_stem(world))
    return payload
