import pytest

from rolegraph.errors import SearchError
from rolegraph.graphs.validate import validate_graph
from rolegraph.optimize.agent_reinforce import AgentReinforce, pilot_graphs
from rolegraph.optimize.api import make_optimizer
from rolegraph.optimize.baselines.exhaustive import ExhaustiveSearch, enumerate_graphs
from rolegraph.optimize.trace import CHARGED_PHASES

from .helpers import run, tiny_config, tiny_space


def _check(result, space, max_evaluations=None):
    assert validate_graph(result.best_graph, space.pool) == []
    assert space.fits(result.best_graph)
    charged = sum(r.n for r in result.trace.records if r.phase in CHARGED_PHASES)
    assert result.evaluations == charged > 0
    if max_evaluations is not None:
        assert charged <= max_evaluations
    assert result.test.n == 6
    assert result.test.ci95[0] - 1e-9 <= result.test.accuracy <= result.test.ci95[1] + 1e-9
    assert result.simulated
    assert {s.label for s in result.singles} == set(space.models)


@pytest.mark.parametrize("name", ["random", "reinforce", "tpe", "agent-reinforce", "agent-reinforce:v1"])
def test_each_optimizer_runs_a_tiny_search(pool, small_task, tmp_path, name):
    space = tiny_space(pool)
    options = {"pilot_batch": 4} if name in ("agent-reinforce:v1", "agent-reinforce:gp") else {}
    result = run(pool, tmp_path / "home", small_task, name, space=space, **options)
    _check(result, space)
    assert result.optimizer == name
    assert [it.iteration for it in result.trace.iterations] == ([0, 1, 2] if name == "agent-reinforce:v1" else [1, 2])
    search = [r for r in result.trace.records if r.phase == "search"]
    assert all(r.n == 4 for r in search)
    if name == "agent-reinforce":
        # the default agent's pilot is the loop's first iterations: one graph per model (3) and a mix of every
        # model, two per iteration; a search of 2 iterations ends before its second stage (tests/optimize/test_pilot.py)
        assert not [r for r in result.trace.records if r.phase == "pilot"]
        assert [r.source for r in search] == ["pilot"] * 4
        assert [f.iteration for f in result.trace.feedback] == []  # the agent reads the pilot once it is all scored
        assert result.feedback_agent.requested == "statistical" and result.feedback_agent.steps == 0
        assert result.feedback_agent.llm_steps == 0 and result.feedback_agent.warning() is None
    if name == "agent-reinforce:v1":
        pilot = [r for r in result.trace.records if r.phase == "pilot"]
        # the pre-issue-14 agent: the 8B ensemble does not fit 18 units, so the pilot's second stage adds a mixed
        # ensemble
        assert len(pilot) == len(pilot_graphs(space)) + 1 and pilot[-1].graph_name.startswith("mixed-")
        assert len(set(pilot[-1].graph_name.removeprefix("mixed-").split("-llama"))) >= 2
        assert [f.iteration for f in result.trace.feedback] == [0, 1, 2]
        assert result.feedback_agent.requested == "statistical" and result.feedback_agent.steps == 3
        assert result.feedback_agent.llm_steps == 0 and result.feedback_agent.warning() is None


def test_no_mixed_ensemble_when_the_best_models_own_ensemble_fits(pool, small_task, tmp_path):
    space = tiny_space(pool, budget=42.0)
    result = run(pool, tmp_path / "home", small_task, "agent-reinforce:v1", space=space, pilot_batch=4,
                 config=tiny_config(iterations=1))
    pilot = [r for r in result.trace.records if r.phase == "pilot"]
    assert len(pilot) == len(pilot_graphs(space)) and not any(r.graph_name.startswith("mixed-") for r in pilot)


def test_the_gaussian_process_agent_pilots_singles_and_own_ensembles_only(pool, small_task, tmp_path):
    space = tiny_space(pool)
    result = run(pool, tmp_path / "home", small_task, "agent-reinforce:gp", space=space, pilot_batch=4)
    _check(result, space)
    pilot = [r for r in result.trace.records if r.phase == "pilot"]
    assert len(pilot) == len(pilot_graphs(space))  # singles and each model's own ensemble, nothing assumed
    assert result.optimizer == "agent-reinforce:gp"


@pytest.mark.parametrize("name", ["cem", "agent-reinforce:pilot-only", "agent-reinforce:no-identify"])
def test_the_ablations_run_a_tiny_search(pool, small_task, tmp_path, name):
    space = tiny_space(pool)
    options = {"pilot_batch": 4} if name in ("agent-reinforce:v1", "agent-reinforce:gp") else {}
    result = run(pool, tmp_path / "home", small_task, name, space=space, **options)
    _check(result, space)
    assert result.optimizer == name
    if name == "agent-reinforce:no-identify":
        from rolegraph.optimize.api import make_optimizer

        assert make_optimizer(name).config()["identify_from"] is None


def test_equal_evaluation_budget_is_respected_by_every_optimizer(pool, small_task, tmp_path):
    space = tiny_space(pool)
    cfg = dict(iterations=None, max_evaluations=60)
    for name in ("random", "agent-reinforce"):
        options: dict = {}
        result = run(pool, tmp_path / "home", small_task, name, space=space, config=tiny_config(**cfg), **options)
        _check(result, space, max_evaluations=60)
        reserve = 2 * 4
        assert result.evaluations > 60 - reserve - 2 * 4  # stopped only when another iteration would not fit


def test_exhaustive_enumerates_distinct_graphs_and_scores_them_on_the_same_items(pool, small_task, tmp_path):
    space = tiny_space(pool, models=("sim/llama-3.2-1b", "sim/llama-3.2-3b"), roles=("solver", "fuser"),
                       max_nodes=3, worker_edges=False)
    graphs = enumerate_graphs(space)
    hashes = {g.model_dump_json() for _, g in graphs}
    assert len(hashes) == len(graphs) > 5
    # a fuser with no inputs is a solver, so it is not listed twice
    singles = [g for _, g in graphs if len(g.nodes) == 1]
    assert len(singles) == 2
    opt = ExhaustiveSearch()
    result = run(pool, tmp_path / "home", small_task, opt, space=space,
                 config=tiny_config(iterations=None, max_evaluations=None, samples=8))
    search = [r for r in result.trace.records if r.phase == "search"]
    assert len({r.graph_hash for r in search}) == len(graphs)
    assert len({tuple(r.items) for r in search}) == 1


def test_exhaustive_refuses_a_huge_space(pool):
    with pytest.raises(SearchError, match="too many to enumerate"):
        enumerate_graphs(tiny_space(pool, max_nodes=9, roles=("solver", "verifier", "fuser", "planner")))


def test_unknown_optimizer_lists_the_known_ones():
    with pytest.raises(SearchError, match="agent-reinforce"):
        make_optimizer("genetic")


def test_agent_model_must_be_real(pool, tmp_path):
    from rolegraph.models.hub import ModelHub
    from rolegraph.settings import Settings

    hub = ModelHub(pool, Settings(home=tmp_path))
    with pytest.raises(SearchError, match="simulated"):
        make_optimizer("agent-reinforce", hub=hub, agent_model="sim/llama-3.1-8b")
    with pytest.raises(SearchError, match="agent-reinforce"):
        make_optimizer("random", hub=hub, agent_model="openai/gpt-4o-mini")


def test_step_size_is_checked():
    with pytest.raises(SearchError):
        AgentReinforce(step_size=0)
