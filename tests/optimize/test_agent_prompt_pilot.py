"""The LLM feedback agent's first prompt says what the pilot scored, read from the pilot's rows: a pilot shrunk
to fit the evaluations (`--samples 2`: one ensemble) used to be described as "each model alone and, per model,
the ensemble", scores the agent was then told of but never shown."""
from __future__ import annotations

from rolegraph.optimize.agent_prompt import TokenBudget, init_prompt, system_prompt
from rolegraph.optimize.agent_reinforce_base import pilot_graphs
from rolegraph.optimize.feedback import InitContext, PilotRow
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace

from .conftest import SIM_MODELS

MODELS = SIM_MODELS[:3]
ITEMS = 4


def _prompt(space: SearchSpace, graphs: list) -> str:
    rows = [PilotRow(label=label, graph=g, accuracy=0.5, latency_s=1.0, dollars=0.0, budget_cost=space.cost(g),
                     objective=0.5 - i / 100, n=ITEMS) for i, (label, g) in enumerate(graphs)]
    budget = TokenBudget(window=128_000, reply_cap=1024)
    ctx = InitContext(space=space, pg=ProbabilisticGraph(space), pilot=rows, task="gsm")
    return init_prompt(ctx, budget.prompt_chars(system_prompt(budget)))


def test_a_shrunk_pilot_is_described_as_what_it_scored(pool):
    space = SearchSpace(pool=pool, models=MODELS, budget=18, max_nodes=4)
    ensemble = next(
        (label, g) for label, g in pilot_graphs(space) if len(g.nodes) > 1 and g.nodes[0].model == MODELS[0]
    )
    text = _prompt(space, [ensemble])
    assert "each model alone" not in text and "models alone" not in text
    assert "The pilot scored 1 graph: 1 one-model ensemble (k solvers feeding an output node of the same model)." \
        in text
    assert f"Not in any pilot graph (no score yet): {MODELS[1]}, {MODELS[2]}." in text
    assert f"Their scores, on {ITEMS} training items each:" in text
    assert text.count("\n- ") == 1  # the one row


def test_a_full_pilot_names_the_singles_and_the_ensembles(pool):
    space = SearchSpace(pool=pool, models=MODELS, budget=18, max_nodes=4)
    graphs = pilot_graphs(space)
    singles = sum(len(g.nodes) == 1 for _, g in graphs)
    ensembles = len(graphs) - singles
    assert singles == 3 and ensembles >= 1  # the space this test means: every model alone, and ensembles
    text = _prompt(space, graphs)
    assert f"The pilot scored {len(graphs)} graphs: 3 models alone; {ensembles} one-model ensemble" in text
    assert "Not in any pilot graph" not in text
    assert text.count("\n- ") == len(graphs)


def test_a_one_model_staged_pilot_counts_graphs_not_models(pool):
    """Its narrow and wide pipelines are two graphs of one model (the prompt said "2 models as the whole staged
    pipeline" on a one-model pool)."""
    from rolegraph.optimize.stages import Stage, StageOutput

    s3 = MODELS[1]
    stages = (Stage("search", "searcher", (s3,), (1, 2)), Stage("solve", "solver", (s3,), (1,)))
    space = SearchSpace(pool=pool, models=(), budget=24.0, family="qa", stages=stages,
                        stage_output=StageOutput(("fuser",), (s3,)))
    graphs = pilot_graphs(space)
    assert len(graphs) == 2 and {n.model for _, g in graphs for n in g.nodes} == {s3}
    text = _prompt(space, graphs)
    assert "The pilot scored 2 graphs: 2 graphs each of one model as the whole staged pipeline." in text
    assert "2 models" not in text
