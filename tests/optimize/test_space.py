import pytest

from rolegraph.errors import SearchError, UnknownModelError
from rolegraph.optimize.objectives import Objective
from rolegraph.optimize.space import SearchSpace

from .conftest import SIM_MODELS


def test_single_1b_node_is_one_flops_unit(pool):
    space = SearchSpace(pool=pool, models=SIM_MODELS, budget=None)
    assert space.flops(space.single("sim/llama-3.2-1b")) == pytest.approx(1.0)
    assert space.flops(space.single("sim/llama-3.1-8b")) > space.flops(space.single("sim/llama-3.2-3b"))


def test_models_too_big_alone_are_left_out(pool):
    space = SearchSpace(pool=pool, models=SIM_MODELS, budget=18)
    assert "sim/llama-3.1-70b" in space.excluded
    assert "sim/llama-3.1-70b" not in space.models
    assert "left out" in space.describe()


def test_budget_too_small_names_the_smallest_feasible_budget(pool):
    with pytest.raises(SearchError) as err:
        SearchSpace(pool=pool, models=("sim/llama-3.2-3b", "sim/llama-3.1-8b"), budget=0.5)
    msg = str(err.value)
    smallest = SearchSpace(pool=pool, models=("sim/llama-3.2-3b",), budget=None).flops(
        SearchSpace(pool=pool, models=("sim/llama-3.2-3b",), budget=None).single("sim/llama-3.2-3b"))
    assert "smallest feasible budget" in msg and f"{smallest:.4g}" in msg and "sim/llama-3.2-3b" in msg


def test_unknown_model_and_role(pool):
    with pytest.raises(UnknownModelError, match="sim/llama-3.2-1b"):
        SearchSpace(pool=pool, models=("sim/llama-3.2-1bb",))
    with pytest.raises(SearchError, match="unknown role"):
        SearchSpace(pool=pool, models=SIM_MODELS, roles=("solver", "critic"))
    with pytest.raises(SearchError, match="none that answers"):
        SearchSpace(pool=pool, models=SIM_MODELS, roles=("planner", "searcher"))


def test_dollar_and_latency_budgets(pool):
    dollars = SearchSpace(pool=pool, models=SIM_MODELS, budget=0.0005, budget_kind="dollars")
    assert all(dollars.cost(dollars.single(m)) <= 0.0005 for m in dollars.models)
    latency = SearchSpace(pool=pool, models=SIM_MODELS, budget=3.0, budget_kind="latency")
    assert all(latency.cost(latency.single(m)) <= 3.0 for m in latency.models)
    assert latency.excluded  # the 70B node is slower than 3 s at the math profile


def test_joint_objective_gets_a_latency_reference(pool):
    space = SearchSpace(pool=pool, models=SIM_MODELS, budget=18, objective=Objective(kind="joint"))
    assert space.objective.latency_ref == pytest.approx(max(space.latency(space.single(m)) for m in space.models))


def test_round_trip(pool):
    space = SearchSpace(pool=pool, models=SIM_MODELS, budget=42, max_nodes=5, worker_edges=False)
    again = SearchSpace.from_dict(space.to_dict(), pool)
    assert again.to_dict() == space.to_dict()
    assert again.models == space.models and again.excluded == space.excluded


def _roles():
    from rolegraph.agents.registry import RoleRegistry

    reg = RoleRegistry.default()
    reg.register("critic", "Find the mistakes and write the corrected answer.")
    reg.register("scribe", "Take notes.", answers=False)
    return reg


def test_registered_roles_can_be_searched_and_answering_ones_may_be_the_output(pool):
    space = SearchSpace(pool=pool, models=SIM_MODELS, roles=("scribe", "critic", "solver"), registry=_roles())
    assert space.worker_roles == ("scribe", "critic", "solver")
    assert space.output_roles == ("critic", "solver")
    with pytest.raises(SearchError, match="unknown role 'critic'.*--roles-file"):
        SearchSpace(pool=pool, models=SIM_MODELS, roles=("solver", "critic"))
    with pytest.raises(SearchError, match="none that answers"):
        SearchSpace(pool=pool, models=SIM_MODELS, roles=("scribe", "planner"), registry=_roles())


def test_round_trip_with_own_roles_and_stages(pool):
    from rolegraph.optimize.stages import Stage, StageOutput

    reg = _roles()
    space = SearchSpace(pool=pool, models=SIM_MODELS, roles=("critic", "solver"), registry=reg, budget=18)
    assert SearchSpace.from_dict(space.to_dict(), pool, reg).to_dict() == space.to_dict()
    staged = SearchSpace(pool=pool, models=(), budget=30, registry=reg,
                         stages=(Stage("draft", "solver", SIM_MODELS[:2], (1, 2)),
                                 Stage("review", "critic", SIM_MODELS[1:3], (0, 1))),
                         stage_output=StageOutput(("critic",), SIM_MODELS[1:3]))
    again = SearchSpace.from_dict(staged.to_dict(), pool, reg)
    assert again.stages == staged.stages and again.stage_output == staged.stage_output
    assert again.worker_slots == 3 and "stages draft: solver" in again.describe()
    with pytest.raises(SearchError, match="writes no final answer"):
        SearchSpace(pool=pool, models=(), registry=reg, stages=staged.stages,
                    stage_output=StageOutput(("scribe",), SIM_MODELS[:1]))


# --- real models: measured latency, sizes ------------------------------------------------------------

def _with_real(pool, **fields):
    from rolegraph.models.pool import ModelPool
    from rolegraph.chat.spec import ModelSpec

    real = ModelSpec(id="my/model", backend="openai", base_url="http://127.0.0.1:9/v1", **fields)
    return ModelPool([*pool, real])


def test_a_real_model_without_measured_calls_is_not_timed_with_the_sim_formula(pool):
    from rolegraph.optimize.space import LatencyUnknownError

    real_pool = _with_real(pool, params_b=1.24, layers=16, hidden=2048)
    with pytest.raises(LatencyUnknownError, match="no measured latency for 'my/model' yet") as err:
        SearchSpace(pool=real_pool, models=("my/model",), budget=5.0, budget_kind="latency")
    assert "\n" not in str(err.value) and "rolegraph eval" in str(err.value)
    with pytest.raises(LatencyUnknownError):
        SearchSpace(pool=real_pool, models=("sim/llama-3.2-1b", "my/model"), budget=None,
                    objective=Objective(kind="joint"))
    # an accuracy objective under a FLOPs budget needs no latency at all
    SearchSpace(pool=real_pool, models=("my/model",), budget=18.0)


def test_a_real_model_is_timed_with_its_measured_rates_and_they_survive_a_round_trip(pool):
    from rolegraph.graphs.spec import GraphSpec
    from rolegraph.models.timings import LatencyRates

    rates = LatencyRates(overhead_s=0.5, s_per_prompt_token=0.001, s_per_output_token=0.02, calls=9)
    real_pool = _with_real(pool)
    space = SearchSpace(pool=real_pool, models=("my/model", "sim/llama-3.2-1b"), budget=100.0,
                        budget_kind="latency", latency_rates={"my/model": rates})
    prof = space.profile
    one = rates.seconds(prof.prompt_tokens, prof.output_tokens)
    assert space.latency(space.single("my/model")) == pytest.approx(one)
    chain = GraphSpec.model_validate({"nodes": [{"id": "a", "role": "solver", "model": "my/model"},
                                                {"id": "out", "role": "verifier", "model": "my/model"}],
                                      "edges": [["a", "out"]]})
    second = rates.seconds(prof.prompt_tokens + prof.output_tokens, prof.output_tokens)
    assert space.latency(chain) == pytest.approx(one + second)
    back = SearchSpace.from_dict(space.to_dict(), real_pool)
    assert back.latency_rates == {"my/model": rates} and back.latency(chain) == space.latency(chain)


def test_a_flops_budget_on_a_real_model_without_sizes_says_so_in_one_line(pool):
    from rolegraph.graphs.analysis import FlopsUnknownError

    with pytest.raises(FlopsUnknownError) as err:
        SearchSpace(pool=_with_real(pool), models=("my/model",), budget=18.0)
    msg = str(err.value)
    assert "\n" not in msg and "my/model" in msg and "params_b" in msg and "--budget-kind" in msg


def test_the_single_model_baseline_plays_the_users_role_when_every_role_is_theirs(pool):
    from rolegraph.agents.roles_file import register_defs

    registry = register_defs([{"name": "qsolve", "prompt": "Solve it."}, {"name": "qfuse", "prompt": "Fuse them."}])
    model = "sim/llama-3.2-1b"
    own = SearchSpace(pool=pool, models=(model,), roles=("qsolve", "qfuse"), registry=registry, budget=18.0)
    assert [n.role for n in own.single(model).nodes] == ["qsolve"]
    mixed = SearchSpace(pool=pool, models=(model,), roles=("solver", "qfuse"), registry=registry, budget=18.0)
    assert [n.role for n in mixed.single(model).nodes] == ["solver"]
    assert [n.role for n in SearchSpace(pool=pool, models=(model,)).single(model).nodes] == ["solver"]
