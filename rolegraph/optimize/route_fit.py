"""`rolegraph route fit`: fit a cascade over a search's front from its paired outcomes.

Candidates are the graphs of the run's paired sets (optimize/paired.py), ordered by FLOPs. Every chain of up
to `max_stages` of them, with every stop rule of a small grid per stage (agreement levels the stage can show,
a verifier's acceptance, log-probability quantiles where the endpoint returned them, full agreement *or* a
logprob quantile; an unparsable answer always escalates), is scored on the fit items from the stored
outcomes alone (optimize/cascade.py). The chain
chosen for the target is then reported on the test items, which the fit never saw, against the search's best
graph with a paired bootstrap interval. Besides the stored graphs, every graph whose output reads several
answering nodes is also offered as a plurality stage (its voters' plurality, without its output: the cheapest
first stage a vote offers), scored from the same stored runs. Targets: `target_flops` (best fit accuracy at
mean FLOPs <= X), `target_accuracy` (least mean FLOPs at fit accuracy >= Y), or by default the best graph's
fit accuracy less `tolerance`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from rolegraph.errors import SearchError
from rolegraph.evaluate.stats import paired_bootstrap
from rolegraph.graphs.analysis import TOKEN_PROFILES
from rolegraph.graphs.router import RouterSpec, StopRule
from rolegraph.models.provenance import REAL, SIMULATED, Simulation, combine, label_suffix
from rolegraph.optimize.cascade import (
    CascadeCosts,
    Chain,
    Outcomes,
    Point,
    answering_stage,
    evaluate_chain,
    evaluate_rule_combos,
    plurality_sets,
)
from rolegraph.optimize.route_guard import Guard, calibrate, guarded_all
from rolegraph.optimize.route_inputs import incomplete_error, load_outcomes, no_outcomes_error, run_meta
from rolegraph.optimize.route_options import DEFAULT_TOLERANCE, check_options, check_tolerance
from rolegraph.optimize.rundir import RunStore

MAX_STAGES = 3  # the default; the most allowed is route_options.STAGES_LIMIT
MAX_AGREEMENT_LEVELS = 6
LOGPROB_QUANTILES = (0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9)  # of a stage's mean logprobs on the fit items
OR_AGREEMENT_LEVELS = 1  # agreement levels (the strictest) offered with a logprob alternative
FULL_AGREEMENT = 1.0


class RoutePoint(BaseModel):
    accuracy: float
    flops_units: float
    dollars: float
    latency_s: float
    n: int
    shares: list[float] = Field(default_factory=list)  # share of items each stage answered


class StageCheck(BaseModel):
    """One stage of the chosen router on one split: the items it answered, how often it was right on them, and
    how often the best graph was right on the same items (a stage much below it there costs the router)."""

    share: float
    accuracy: float | None  # None: the stage answered no item
    best_accuracy: float | None


class Candidate(BaseModel):
    name: str
    source: str
    fit: RoutePoint
    test: RoutePoint | None
    agree_accuracy: float | None = None  # fit items where every other answering node agreed
    disagree_accuracy: float | None = None
    agree_share: float | None = None


class RouteFit(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    run_dir: str
    simulated: bool  # every outcome simulated (as EvalResult.simulated); `simulation` is the three-way label
    simulation: Simulation = REAL
    target: dict
    router: RouterSpec
    stages: list[str]
    rules: list[str]
    fit: RoutePoint
    test: RoutePoint
    best_name: str
    best_fit: RoutePoint
    best_test: RoutePoint
    single_name: str | None = None
    single_test: RoutePoint | None = None
    vs_best: dict  # paired bootstrap on test items: router - best
    flops_ratio: float  # router's mean test FLOPs / best graph's
    candidates: list[Candidate]
    frontier: list[RoutePoint]  # fit-item points of cascades no other beats on accuracy and FLOPs
    note: str
    guard: dict = Field(default_factory=dict)  # route_guard.Guard: z and what cross-validation measured
    stage_fit: list[StageCheck] = Field(default_factory=list)
    stage_test: list[StageCheck] = Field(default_factory=list)


def _point(p: Point) -> RoutePoint:
    return RoutePoint(
        accuracy=p.accuracy,
        flops_units=p.flops_units,
        dollars=p.dollars,
        latency_s=p.latency_s,
        n=len(p.scores),
        shares=p.shares,
    )


def rule_grid(o: Outcomes) -> list[StopRule]:
    """Stop rules worth trying on a stage: what it can observe, at the levels it showed on the fit items."""
    rules = [StopRule()]
    levels = sorted({round(float(a), 6) for a in o.agreement[~np.isnan(o.agreement)] if a > 0})
    levels = levels[-MAX_AGREEMENT_LEVELS:]
    rules += [StopRule(min_agreement=a) for a in levels]
    if (o.verified >= 0).any():
        rules += [StopRule(require_verified=True)] + [StopRule(min_agreement=a, require_verified=True) for a in levels]
    known = o.logprob[~np.isnan(o.logprob)]
    if known.size:
        cuts = [float(np.quantile(known, q)) for q in LOGPROB_QUANTILES]
        rules += [StopRule(min_logprob=c) for c in cuts]
        # agreement or a sure speaker: at the strictest agreement levels only (they are where the two differ most)
        rules += [StopRule(min_agreement=a, or_min_logprob=c) for a in levels[-OR_AGREEMENT_LEVELS:] for c in cuts]
    return rules


def point_batches(outcomes: list[Outcomes], costs: CascadeCosts, max_stages: int) -> Iterator[list[Point]]:
    """Every chain (cheapest first) with every rule combination, scored on the outcomes' items, one list per
    sequence of stages (a caller that keeps only a summary of each point can drop the batch's arrays)."""
    order = sorted(range(len(outcomes)), key=lambda i: (outcomes[i].result.flops_units, -outcomes[i].result.accuracy))
    grids = {i: [(r, outcomes[i].passes(r)) for r in rule_grid(outcomes[i])] for i in order}
    for length in range(1, max_stages + 1):
        for stages in itertools.combinations(order, length):
            yield evaluate_rule_combos(stages, outcomes, costs, grids)


def all_points(outcomes: list[Outcomes], costs: CascadeCosts, max_stages: int) -> list[Point]:
    """Every chain (cheapest first) with every rule combination, scored on the outcomes' items."""
    return [p for batch in point_batches(outcomes, costs, max_stages) for p in batch]


def select(
    points: list[Point], target_flops: float | None, target_accuracy: float, best: Point | None = None, z: float = 0.0
) -> Point:
    """With `target_flops`: the best accuracy within it; else the least FLOPs reaching `target_accuracy`.
    Accuracies are `guarded` against `best` by `z` paired standard errors (none without `best`)."""
    guards = guarded_all(points, best, z) if best is not None else [p.accuracy for p in points]
    acc = {id(p): g for p, g in zip(points, guards)}
    if target_flops is not None:
        within = [p for p in points if p.flops_units <= target_flops + 1e-9]
        if not within:
            cheapest = min(p.flops_units for p in points)
            raise SearchError(
                f"no cascade of this run's graphs fits {target_flops:g} FLOPs units (least: {cheapest:.2f})"
            )
        return max(within, key=lambda p: (acc[id(p)], -p.flops_units, -len(p.chain.stages)))
    reach = [p for p in points if acc[id(p)] >= target_accuracy - 1e-12]
    if not reach:
        raw = max(p.accuracy for p in points)
        raise SearchError(unreached(target_accuracy, max(acc.values()), raw, z if best is not None else 0.0))
    return min(reach, key=lambda p: (p.flops_units, -acc[id(p)], len(p.chain.stages)))


def _apart(target: float, best: float) -> int:
    """Decimals (3 at least) at which `target` and `best` read differently: at 3, a 0.6528 target missed by a
    best of 0.65277 read "accuracy 0.653 (best: 0.653)"."""
    return next((d for d in range(3, 10) if f"{target:.{d}f}" != f"{best:.{d}f}"), 10)


def unreached(target: float, top: float, raw: float, z: float) -> str:
    """Why no cascade meets `target`, naming the figure compared: the best *guarded* fit accuracy (`top`, after
    z paired SE against the winner's curse) is below the raw fit accuracies `route fit` prints (`raw`, best)."""
    d = _apart(target, top)
    if z > 0 and top < raw:
        guard = (
            "counting against the winner's curse only chains that never differ from the best graph (z = inf)"
            if math.isinf(z)
            else f"once lowered against the winner's curse by z = {z:g} paired SE of its difference from the best graph"
        )
        return (
            f"no cascade reaches accuracy {target:.{d}f} on the fit items {guard} (best so: {top:.{d}f}; best "
            f"unguarded: {raw:.{d}f}); ask for less with --target-accuracy"
        )
    return f"no cascade reaches accuracy {target:.{d}f} on the fit items (best: {top:.{d}f})"


def frontier(points: list[Point]) -> list[Point]:
    """Points no other point beats on both accuracy and mean FLOPs, cheapest first."""
    ranked = sorted(points, key=lambda p: (p.flops_units, -p.accuracy))
    out: list[Point] = []
    for p in ranked:
        if not out or p.accuracy > out[-1].accuracy + 1e-12:
            out.append(p)
    return out


def _agreement_split(o: Outcomes) -> tuple[float | None, float | None, float | None]:
    known = ~np.isnan(o.agreement)
    if not known.any():
        return None, None, None
    agree = known & (o.agreement >= FULL_AGREEMENT - 1e-9)
    rest = known & ~agree
    mean = lambda m: float(o.score[m].mean()) if m.any() else None  # noqa: E731
    return mean(agree), mean(rest), float(agree.sum() / known.sum())


def stage_checks(chain: Chain, outcomes: list[Outcomes], best_index: int) -> list[StageCheck]:
    """Per stage of `chain` on these items: share answered, its accuracy there and the best graph's."""
    stage, best = answering_stage(chain, outcomes), outcomes[best_index].score
    out = []
    for i, c in enumerate(chain.stages):
        mask = stage == i
        some = bool(mask.any())
        out.append(
            StageCheck(
                share=float(mask.mean()),
                accuracy=float(outcomes[c].score[mask].mean()) if some else None,
                best_accuracy=float(best[mask].mean()) if some else None,
            )
        )
    return out


def _test_point(chain: Chain, test: list[Outcomes], costs: CascadeCosts) -> Point:
    answered = [test[c].passes(rule) for c, rule in zip(chain.stages, chain.rules)]
    return evaluate_chain(chain, test, costs, answered)


def _note(chosen: Point, best_index: int, cands: list[Candidate], ratio: float, diff: tuple[float, ...]) -> str:
    if len(chosen.chain.stages) == 1:
        if chosen.chain.stages[0] == best_index:
            signal = "; ".join(
                f"{c.name}: right {c.agree_accuracy:.0%} when its nodes agree ({c.agree_share:.0%} of items) vs "
                f"{c.disagree_accuracy:.0%} otherwise"
                for c in cands
                if c.agree_accuracy is not None and c.disagree_accuracy is not None
            )
            why = (
                f" Agreement separates right from wrong answers this much on the fit items: {signal}." if signal else ""
            )
            return "No cascade of this run's graphs reached the target for less than the best graph itself." + why
        return "A single graph of the front meets the target more cheaply than any cascade."
    lo, hi = diff[1], diff[2]
    verdict = "contains 0" if lo <= 0 <= hi else ("is above 0" if lo > 0 else "is below 0: the router is less accurate")
    return (
        f"Stage 1 answers {chosen.shares[0]:.0%} of fit items; on test items the router spends {ratio:.2f}x the "
        f"best graph's FLOPs, and the paired 95% interval of (router - best graph) {verdict} "
        f"({diff[0]:+.3f} [{lo:+.3f}, {hi:+.3f}])."
    )


def fit_route(
    run_dir: str | Path,
    *,
    target_flops: float | None = None,
    target_accuracy: float | None = None,
    tolerance: float | None = None,
    max_stages: int = MAX_STAGES,
    name: str | None = None,
    outcomes: tuple[list[Outcomes], list[Outcomes | None]] | None = None,
    points: list[Point] | None = None,
    plurality: bool = True,
    guard_z: float | None = None,
) -> RouteFit:
    """Fit a router on the run's fit items for the target and report it on the test items (see the module doc).

    `outcomes`/`points` let a caller fitting several targets load the run and score the chains once (`points`
    must then come from the same candidates, plurality stages included when `plurality`). `tolerance` (default
    DEFAULT_TOLERANCE) sets the default target only: given with a target, it is refused, not ignored."""
    check_options(target_flops, target_accuracy, DEFAULT_TOLERANCE if tolerance is None else tolerance, max_stages)
    tolerance = check_tolerance(target_flops, target_accuracy, tolerance)
    if outcomes is None:
        RunStore.open(run_dir).close()  # a path that is not a run says so, not "no paired outcomes"
    fit_all, test_all = outcomes if outcomes is not None else load_outcomes(run_dir)
    test = [t for t in test_all if t is not None]
    if not test:
        raise no_outcomes_error(run_dir)
    if len(test) < len(test_all):  # fitting on the rest would drop front graphs and single models unsaid
        raise incomplete_error(run_dir, [o.name for o, t in zip(fit_all, test_all) if t is None])
    fit = list(fit_all)
    pool, family = run_meta(run_dir)
    profile = TOKEN_PROFILES.get(family, TOKEN_PROFILES["math"])
    if plurality:
        for pf, pt in plurality_sets((fit, test), pool, profile):
            fit.append(pf)
            test.append(pt)
    fit_costs, test_costs = CascadeCosts(fit, pool, profile), CascadeCosts(test, pool, profile)
    points = points if points is not None else all_points(fit, fit_costs, max_stages)
    best_index = next(
        (i for i, o in enumerate(fit) if o.source == "best"), max(range(len(fit)), key=lambda i: fit[i].result.accuracy)
    )
    best_fit = next(p for p in points if p.chain.stages == (best_index,))
    goal = target_accuracy if target_accuracy is not None else best_fit.accuracy - tolerance
    best_point = next(i for i, p in enumerate(points) if p.chain.stages == (best_index,))
    guard = (
        calibrate(points, best_point, target_flops, target_accuracy, tolerance) if guard_z is None else Guard(z=guard_z)
    )
    chosen = select(points, target_flops, goal, best_fit, guard.z)
    best_test = _test_point(best_fit.chain, test, test_costs)
    chosen_test = _test_point(chosen.chain, test, test_costs)
    diff = paired_bootstrap(best_test.scores.tolist(), chosen_test.scores.tolist())
    cands = []
    for index, o in enumerate(fit):
        single = Chain(stages=(index,), rules=())
        agree, disagree, share = _agreement_split(o)
        cands.append(
            Candidate(
                name=o.name,
                source=o.source,
                fit=_point(next(p for p in points if p.chain.stages == single.stages)),
                test=_point(_test_point(single, test, test_costs)),
                agree_accuracy=agree,
                disagree_accuracy=disagree,
                agree_share=share,
            )
        )
    singles = [c for c in cands if c.source == "single" or c.name.startswith("single-")]
    top_single = max(  # picked on the fit items, reported on test: the max of test scores would flatter it
        (c for c in singles if c.test is not None), key=lambda c: (c.fit.accuracy, -c.fit.flops_units), default=None
    )
    ratio = chosen_test.flops_units / best_test.flops_units if best_test.flops_units else math.nan
    target = (
        {"kind": "flops", "value": target_flops}
        if target_flops is not None
        else {"kind": "accuracy", "value": goal, "tolerance": None if target_accuracy is not None else tolerance}
    )
    rules = [r.text() for r in chosen.chain.rules]
    router = chosen.chain.router(fit, name=name or "router")
    # the figures read fit and test outcomes: a run mixing sim and real models is "partly simulated", not unlabelled
    simulation = combine(o.result.simulation for o in (*fit, *test)) or REAL
    simulated = simulation == SIMULATED
    result = RouteFit(
        run_dir=str(run_dir),
        simulated=simulated,
        simulation=simulation,
        target=target,
        router=router,
        stages=[fit[c].name for c in chosen.chain.stages],
        rules=rules,
        fit=_point(chosen),
        test=_point(chosen_test),
        best_name=fit[best_index].name,
        best_fit=_point(best_fit),
        best_test=_point(best_test),
        single_name=top_single.name if top_single else None,
        single_test=top_single.test if top_single else None,
        vs_best={"diff": diff[0], "ci95": [diff[1], diff[2]], "p": diff[3]},
        flops_ratio=ratio,
        candidates=cands,
        frontier=[_point(p) for p in frontier(points)],
        note=_note(chosen, best_index, cands, ratio, diff) + " " + guard.text()[:1].upper() + guard.text()[1:] + ".",
        guard={
            "z": guard.z if math.isfinite(guard.z) else "inf",
            "cv_diff": guard.cv_diff,
            "cv_flops_ratio": guard.cv_flops_ratio,
            "cv_se": guard.cv_se,
            "folds": guard.folds,
        },
        stage_fit=stage_checks(chosen.chain, fit, best_index),
        stage_test=stage_checks(chosen.chain, test, best_index),
    )
    result.router.description = _describe(result)
    result.router.fit = {
        "run_dir": str(run_dir),
        "target": target,
        "fit": result.fit.model_dump(),
        "test": result.test.model_dump(),
        "best_graph": {"name": result.best_name, "test": result.best_test.model_dump()},
        "simulated": simulated,
        "simulation": simulation,
    }
    return result


def _describe(r: RouteFit) -> str:
    sim = label_suffix(r.simulation)
    return (
        f"router over {len(r.stages)} stage(s) fitted on {r.fit.n} items of {r.run_dir}; test accuracy "
        f"{r.test.accuracy:.3f} at {r.test.flops_units:.1f} FLOPs units vs the best graph's "
        f"{r.best_test.accuracy:.3f} at {r.best_test.flops_units:.1f}{sim}"
    )
