"""The anytime pilot's mixes: every model once (the costliest fuser that fits, the costliest solver left out where
none does), and the second stage's mixes of the two models whose pilot graphs scored best."""
from __future__ import annotations

from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.agent_reinforce import fan_in
from rolegraph.optimize.pilot import anytime_pilot, each_model_once, pair_mixes
from rolegraph.optimize.space import OUTPUT_ID, SearchSpace

from .test_stages import staged

ONE_B, THREE_B, EIGHT_B = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"
MODELS = (ONE_B, THREE_B, EIGHT_B)


def _space(pool, budget: float = 18.0, models=MODELS, max_nodes: int = 6) -> SearchSpace:
    return SearchSpace(pool=pool, models=models, roles=("solver", "fuser"), max_nodes=max_nodes, budget=budget)


def _solvers(spec: GraphSpec) -> list[str]:
    return [n.model for n in spec.nodes if n.id != spec.output_id()]


def _fuser(spec: GraphSpec) -> str:
    return spec.node(spec.output_id()).model


def test_every_model_once_fused_by_the_costliest_model_that_fits(pool):
    sp = _space(pool, budget=18.0)
    mix = each_model_once(sp)
    assert mix is not None and sp.fits(mix)
    assert sorted(_solvers(mix)) == sorted(MODELS) and mix.node(OUTPUT_ID).role == "fuser"
    # no costlier fuser fits with the same solvers
    costlier = [m for m in MODELS if sp.cost(sp.single(m)) > sp.cost(sp.single(_fuser(mix)))]
    assert costlier and not any(sp.fits(fan_in(sp, _solvers(mix), m, "x")) for m in costlier)
    assert anytime_pilot(sp)[-1][1] == mix and anytime_pilot(sp)[-1][0].startswith("each model once")


def test_where_every_model_does_not_fit_the_costliest_solver_is_left_out(pool):
    everyone = [fan_in(_space(pool), list(MODELS), m, "x") for m in MODELS]
    pair = fan_in(_space(pool), [ONE_B, THREE_B], ONE_B, "x")
    budget = next(b for b in range(4, 40) if _space(pool, b).fits(pair))
    sp = _space(pool, float(budget))
    assert not any(sp.fits(g) for g in everyone)
    mix = each_model_once(sp)
    assert mix is not None and sorted(_solvers(mix)) == sorted([ONE_B, THREE_B])
    assert each_model_once(_space(pool, models=(EIGHT_B,))) is None  # one model: nothing to mix


def test_the_second_stage_mixes_the_two_models_whose_pilot_graphs_scored_best(pool):
    sp = _space(pool, budget=30.0)
    pilot = [(g, score) for (_, g), score in zip(anytime_pilot(sp), (0.50, 0.70, 0.65, 0.40))]
    # 3B's ensemble scored best, then the 8B's graph; the mix of all (fused by the costliest fitting) is last
    mixes = pair_mixes(sp, pilot)
    assert mixes and all(sp.fits(g) for _, g in mixes)
    pair = mixes[0][1]
    assert sorted(_solvers(pair)) == sorted([THREE_B, EIGHT_B])
    best_first = THREE_B if sp.fits(fan_in(sp, [THREE_B, EIGHT_B], THREE_B, "x")) else EIGHT_B
    assert _fuser(pair) == best_first
    assert sp.fits(fan_in(sp, [THREE_B, EIGHT_B, THREE_B], best_first, "x"))  # so a wider mix exists
    assert len(mixes) == 2  # the budget-filling alternation: 3B, 8B, 3B, ... and one more would not fit
    wide = _solvers(mixes[1][1])
    assert len(wide) > 2 and wide == [(THREE_B, EIGHT_B)[i % 2] for i in range(len(wide))]
    more = fan_in(sp, [*wide, (THREE_B, EIGHT_B)[len(wide) % 2]], _fuser(pair), "x")
    assert _fuser(mixes[1][1]) == _fuser(pair) and (len(wide) == sp.worker_slots or not sp.fits(more))


def test_a_model_is_credited_with_the_pilot_graphs_it_fuses(pool):
    sp = _space(pool, budget=30.0)
    mixed = fan_in(sp, [EIGHT_B, THREE_B], ONE_B, "m")
    pilot = [(sp.single(EIGHT_B), 0.5), (sp.single(THREE_B), 0.3), (mixed, 0.9)]
    assert sorted(_solvers(pair_mixes(sp, pilot)[0][1])) == sorted([ONE_B, EIGHT_B])  # 1B: its fused graph's 0.9


def test_no_second_stage_without_two_models_or_in_a_staged_space(pool):
    sp = _space(pool, budget=30.0)
    assert pair_mixes(sp, [(sp.single(EIGHT_B), 0.9), (fan_in(sp, [EIGHT_B], EIGHT_B, "r"), 0.8)]) == []
    st = staged(pool)
    assert pair_mixes(st, [(g, 0.5) for _, g in anytime_pilot(st)]) == []
    assert all(not label.startswith("each model once") for label, _ in anytime_pilot(st))
