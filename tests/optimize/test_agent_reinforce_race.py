"""The default Agent-REINFORCE (`agent_reinforce_race`): an anytime pilot scored as the loop's first
iteration(s), racing between the leader and its strongest rival, samples that look for graphs not scored
yet, the identification phase at the end, and the pilot-only ablation of it."""
import json

import numpy as np
import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.agent_reinforce import ensemble, fan_in
from rolegraph.optimize.agent_reinforce_race import IDENTIFY_SLOTS, AgentReinforce, anytime_pilot
from rolegraph.optimize.api import make_optimizer
from rolegraph.optimize.space import SearchSpace

from .helpers import run, tiny_config, tiny_space

ONE_B, THREE_B, EIGHT_B = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"


def test_the_pilot_is_one_graph_per_model_its_ensemble_where_one_fits(pool):
    sp = SearchSpace(pool=pool, models=(ONE_B, THREE_B, EIGHT_B), roles=("solver", "fuser"), max_nodes=6, budget=18.0)
    graphs = [g for _, g in anytime_pilot(sp)][: len(sp.models)]  # then one mix (tests/optimize/test_pilot.py)
    assert len({g.nodes[0].model for g in graphs}) == len(sp.models)
    by_model = {g.nodes[0].model: g for g in graphs}
    for m in sp.models:
        g = by_model[m]
        assert sp.fits(g) and {n.model for n in g.nodes} == {m}
        if ensemble(sp, m) is not None:
            assert len(g.nodes) == len(ensemble(sp, m).nodes)
    assert len(by_model[ONE_B].nodes) > 2  # a real ensemble: k >= 2 solvers and the fuser


def test_where_no_ensemble_of_a_model_fits_the_pilot_refines_its_answer_else_runs_it_alone(pool):
    """At 18 FLOPs units two 8B solvers and an 8B fuser cost too much: the 8B's pilot graph is its answer read
    by an 8B fuser (the budget it can use), not the 8B alone; where even that does not fit, the 8B alone."""
    sp = SearchSpace(pool=pool, models=(ONE_B, THREE_B, EIGHT_B), roles=("solver", "fuser"), max_nodes=6, budget=18.0)
    assert ensemble(sp, EIGHT_B) is None
    (label, g), = [(lab, g) for lab, g in anytime_pilot(sp) if g.nodes[0].model == EIGHT_B]
    assert [(n.role, n.model) for n in g.nodes] == [("solver", EIGHT_B), ("fuser", EIGHT_B)]
    assert g.edges == [(g.nodes[0].id, g.output)] and g.output == g.nodes[1].id and label.endswith("-> fuser")
    alone = sp.single(EIGHT_B)
    tight = next(
        b for b in (9.0, 10.0, 11.0, 12.0, 13.0, 14.0)
        if SearchSpace(pool=pool, models=(EIGHT_B,), roles=("solver", "fuser"), max_nodes=6, budget=b).fits(alone)
    )
    small = SearchSpace(pool=pool, models=(EIGHT_B,), roles=("solver", "fuser"), max_nodes=6, budget=tight)
    (label, g), = anytime_pilot(small)
    assert not small.fits(fan_in(small, [EIGHT_B], EIGHT_B, "chain"))  # the chain costs about twice the model
    assert len(g.nodes) == 1 and label.startswith("single")


def test_the_pilot_is_scored_by_the_loop_first_and_then_the_agent_learns_and_races(pool, small_task, tmp_path):
    sp = tiny_space(pool)
    # without the identification phase, which would take over the second half (tested below)
    result = run(pool, tmp_path / "home", small_task, AgentReinforce(identify_from=None), space=sp,
                 config=tiny_config(iterations=8, samples=3, batch=8))
    search = [r for r in result.trace.records if r.phase == "search"]
    pilot = [r for r in search if r.source == "pilot"]
    first = [r for r in search if r.iteration == 1]
    assert len(first) == 3 and all(r.source == "pilot" for r in first)  # 3 samples: the first 3 models' graphs
    assert {r.graph_name.split("-", 1)[0] for r in first} == {"vote3", "refine"}  # tiny space: 2 fit an ensemble
    # then the mix of every model, then the mixes of the two best (tests/optimize/test_pilot.py): 2 more iterations
    last = max(r.iteration for r in pilot)
    assert last == 3 and len(pilot) == len(sp.models) + 1 + 2
    assert not [r for r in result.trace.records if r.phase == "pilot"]  # no block before the loop
    assert result.trace.iterations[0].iteration == 1 and result.trace.iterations[0].best_hash is not None
    later = {r.source for r in search if r.iteration > last}
    # the agent proposes a mutation of the leader once the leader has RECHECK_ITEMS (32) items, 4 batches of 8
    assert "racing" in later and "proposed" in later and "sampled" in later and "pilot" not in later
    assert [f.iteration for f in result.trace.feedback] == [0, *range(last + 1, 9)]  # the pilot's, then one a step


def test_samples_look_for_graphs_not_scored_yet(pool, small_task, tmp_path):
    result = run(pool, tmp_path / "home", small_task, AgentReinforce(race=False), space=tiny_space(pool),
                 config=tiny_config(iterations=5, samples=3))
    search = [r for r in result.trace.records if r.phase == "search"]
    sampled = [r for r in search if r.source == "sampled"]
    assert sampled
    for r in sampled:  # record hashes are the structure's: equal hashes are the same graph
        earlier = {q.graph_hash for q in search if q.iteration < r.iteration}
        assert r.graph_hash not in earlier  # the space (dozens of graphs) is far from used up in 5 iterations


def test_pilot_only_is_the_pilot_then_plain_samples(pool, small_task, tmp_path):
    opt = make_optimizer("agent-reinforce:pilot-only")
    assert isinstance(opt, AgentReinforce) and opt.name == "agent-reinforce:pilot-only"
    assert not opt.learn and not opt.race
    result = run(pool, tmp_path / "home", small_task, opt, space=tiny_space(pool), config=tiny_config(iterations=4,
                                                                                                       samples=3))
    assert [f.iteration for f in result.trace.feedback] == [0]  # the pilot's feedback only
    search = [r for r in result.trace.records if r.phase == "search"]
    assert {r.source for r in search if r.iteration == 1} == {"pilot"}
    last = max(r.iteration for r in search if r.source == "pilot")  # its two stages (tests/optimize/test_pilot.py)
    assert 1 < last < 4 and {r.source for r in search if r.iteration > last} == {"sampled"}
    assert result.feedback_agent is None


def test_the_state_round_trips_through_a_checkpoint(pool, small_task, tmp_path):
    sp = tiny_space(pool)
    opt = AgentReinforce()
    run(pool, tmp_path / "home", small_task, opt, space=sp, config=tiny_config(iterations=3, samples=3))
    state = opt.state_dict()
    assert state["scored"] and state["rows"] and not state["queue"]
    again = AgentReinforce()
    again.bind(sp, 0)
    again.load_state_dict(json.loads(json.dumps(state)))  # what a checkpoint file holds
    assert json.loads(json.dumps(again.state_dict())) == json.loads(json.dumps(state))
    mine = opt.propose(4, 3, np.random.default_rng(5))
    theirs = again.propose(4, 3, np.random.default_rng(5))
    assert [p.structure for p in mine] == [p.structure for p in theirs]
    assert [p.source for p in mine] == [p.source for p in theirs]


def _search(result):
    return [r for r in result.trace.records if r.phase == "search"]


def test_after_the_identify_share_only_graphs_already_scored_are_scored_again(pool, small_task, tmp_path):
    sp = tiny_space(pool)
    config = tiny_config(iterations=10, samples=4, batch=8)  # 2 racing, the proposal, and a slot for a new sample
    result = run(pool, tmp_path / "a", small_task, AgentReinforce(identify_from=0.5), space=sp, config=config)
    search = _search(result)
    late = [r for r in search if r.iteration >= 6]  # iteration 5 ends half the iterations: 6 on only identifies
    assert late
    for it in range(6, 11):
        scored = [r for r in late if r.iteration == it]
        assert 0 < len(scored) <= IDENTIFY_SLOTS
        earlier = {q.graph_hash for q in search if q.iteration < it}
        assert all(r.source == "racing" and r.graph_hash in earlier for r in scored)
    # without the phase, the same search keeps looking for new graphs to the end
    plain = _search(run(pool, tmp_path / "b", small_task, AgentReinforce(identify_from=None), space=sp, config=config))
    new_late = [r for r in plain if r.iteration >= 6 and r.graph_hash not in
                {q.graph_hash for q in plain if q.iteration < r.iteration}]
    assert new_late and {r.source for r in new_late} & {"sampled", "proposed"}


def test_the_identify_share_is_checked_and_recorded():
    with pytest.raises(SearchError, match="identify_from"):
        AgentReinforce(identify_from=1.5)
    assert AgentReinforce().config()["identify_from"] == 0.5
    assert AgentReinforce(race=False).config()["identify_from"] is None  # the pilot-only ablation does not race


def test_pilot_labels_name_the_output_role_the_space_uses(pool):
    """Without a fuser in the space, the pilot's graphs end in a solver: their labels (the feedback text and the
    report read them) say so rather than '-> fuser'."""
    sp = SearchSpace(pool=pool, models=(ONE_B, EIGHT_B), roles=("solver", "verifier"), budget=18.0)
    pilots = anytime_pilot(sp)
    assert len(pilots) >= 2
    for label, g in pilots:
        assert "fuser" not in label
        if "->" in label and not label.startswith("each model once"):
            assert label.endswith(f"-> {g.node(g.output_id()).role}")
