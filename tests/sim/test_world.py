"""Seeded worlds: world 0 is the calibrated simulator, other worlds are varied, deterministic landscapes,
and a pool (hence a run) lives in exactly one world."""
from __future__ import annotations

import pytest

from rolegraph.items import AnswerKey
from rolegraph.models.cache import cache_key
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.sim import calibration as cal
from rolegraph.sim.model import SimChatModel
from rolegraph.sim.rules import FOLLOW_PROB, JUDGE_BONUS, RuleParams
from rolegraph.sim.text import norm_answer
from rolegraph.sim.world import SimWorld, WorldError, resolve_world, world
from rolegraph.transcript import render_input, role_line

SIZES = ("sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b", "sim/llama-3.1-70b")
FAMILIES = ("math", "mmlu", "code", "qa")
WORLDS = range(1, 51)
FIT_ITEMS = 2500
FIT_TOLERANCE = 0.025


def test_world_zero_is_the_calibrated_simulator():
    pool = ModelPool.builtin()
    assert pool.world == 0
    w = world(0)
    for family in FAMILIES:
        for mid in SIZES:
            spec = pool.get(mid)
            assert cal.single_accuracy(spec, family) == cal.interpolated_accuracy(family, spec.params_b)
    params = RuleParams.of(w)
    for role, bonus in JUDGE_BONUS.items():
        assert params.judge_bonus(role) == bonus
        assert params.follow_prob(role) == FOLLOW_PROB[role]
    assert cal.difficulty_sds(w) == (cal.DIFFICULTY_SD, cal.MODEL_ITEM_SD)
    assert ModelPool.builtin(world=0).get(SIZES[0]).price_in == ModelPool.load().get(SIZES[0]).price_in


def test_worlds_are_deterministic_values_and_differ():
    assert SimWorld(7).describe() == world(7).describe()
    assert world(3).describe() != world(4).describe()
    a, b = ModelPool.builtin(world=3), ModelPool.builtin(world=3)
    assert [s.model_dump() for s in a] == [s.model_dump() for s in b]
    accs = {n: [cal.single_accuracy(ModelPool.builtin(world=n).get(m), "math") for m in SIZES] for n in (0, 3)}
    assert accs[0] != accs[3]


def test_worlds_vary_skills_and_sometimes_a_smaller_model_wins_a_family():
    inversions = settings = 0
    spread = []
    for n in WORLDS:
        pool = ModelPool.builtin(world=n)
        for family in FAMILIES:
            accs = [cal.single_accuracy(pool.get(m), family) for m in SIZES]
            assert all(cal.WORLD_ACCURACY_FLOOR <= a <= cal.WORLD_ACCURACY_CEIL for a in accs)
            spread.append(accs[0])
            settings += 1
            inversions += any(accs[i] > accs[i + 1] for i in range(len(accs) - 1))
    # not monotone in size in a real share of (world, family) settings, yet mostly ordered by size
    assert 0.1 < inversions / settings < 0.7
    assert max(spread) - min(spread) > 0.15


def test_a_world_changes_prices_but_not_sizes():
    base, moved = ModelPool.builtin(), ModelPool.builtin(world=5)
    for mid in SIZES:
        a, b = base.get(mid), moved.get(mid)
        assert (a.params_b, a.layers, a.hidden) == (b.params_b, b.layers, b.hidden)
        assert b.world == 5 and a.world == 0
        assert b.price_in == pytest.approx(a.price_in * world(5).price(mid))
    assert moved.get("openai/gpt-4o-mini") == base.get("openai/gpt-4o-mini")  # real models do not move


def test_one_run_one_world():
    assert resolve_world() == 0
    assert resolve_world((None, "--world"), (4, "pool.yaml")) == 4
    with pytest.raises(WorldError, match="pool.yaml says world 2"):
        resolve_world((3, "--world"), (2, "pool.yaml"))
    with pytest.raises(WorldError):
        ModelPool.builtin(world=2).in_world(3)
    mixed = list(ModelPool.builtin(world=2))[:1] + list(ModelPool.builtin())[1:]
    with pytest.raises(WorldError):
        ModelPool(mixed)
    with pytest.raises(WorldError):
        world(-1)


def test_pool_file_world_and_the_errors_it_can_cause(tmp_path):
    path = tmp_path / "pool.yaml"
    path.write_text("world: 4\nmodels:\n  - {id: sim/tiny, backend: sim, params_b: 0.5}\n")
    pool = ModelPool.load(path)
    assert pool.world == 4 and pool.get("sim/tiny").world == 4 and pool.get(SIZES[0]).world == 4
    assert ModelPool.load(path, world=4).world == 4
    with pytest.raises(WorldError, match="world 4"):
        ModelPool.load(path, world=1)
    path.write_text("models:\n  - {id: sim/tiny, backend: sim, params_b: 0.5, world: 2}\n")
    with pytest.raises(Exception, match="set once for the whole pool"):
        ModelPool.load(path)
    path.write_text("wrld: 3\nmodels: []\n")
    with pytest.raises(Exception, match="unknown top-level key 'wrld'"):
        ModelPool.load(path)


def test_the_cache_key_names_the_world():
    key = AnswerKey(item_id="i", gold="1")
    msgs = [{"role": "user", "content": "q"}]
    keys = {
        cache_key(ModelPool.builtin(world=n).get(SIZES[0]), msgs, temperature=0.0, max_tokens=8, seed=0,
                  tools=None, sample=0, answer_key=key)
        for n in (0, 1)
    }
    assert len(keys) == 2


def test_single_node_accuracy_in_a_world_matches_its_drawn_accuracy(tmp_path):
    """The fit holds in every world: a lone solver scores the accuracy its world drew for it."""
    pool = ModelPool.builtin(world=11)
    settings = Settings(home=tmp_path)
    for mid in (SIZES[0], SIZES[2]):
        spec = pool.get(mid)
        model = SimChatModel(spec, settings)
        hits = 0
        for i in range(FIT_ITEMS):
            key = AnswerKey(item_id=f"w-{i}", gold=str(100 + i), family="math")
            msgs = [{"role": "system", "content": role_line("solver")},
                    {"role": "user", "content": render_input(f"Q{i}", [])}]
            text = model.respond(msgs, temperature=0.7, answer_key=key).text
            hits += norm_answer(text.rsplit("Final answer:", 1)[-1].strip(), "math") == key.gold
        assert abs(hits / FIT_ITEMS - cal.single_accuracy(spec, "math")) <= FIT_TOLERANCE, mid
