"""Small rules of a graph's estimates: with several sinks the critical path ends at the slowest, the later one in
topological order on a tie; a FLOPs cell of 0 reads "n/a" (a run records 0 when sizes are unknown); a graph is
"simulated models" only when every model is simulated."""
from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.analysis import FLOPS_UNKNOWN, QA_PROFILE, critical_path, flops_phrase, flops_text, summary
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool

S1 = "sim/llama-3.2-1b"


def test_a_tie_between_sinks_goes_to_the_later_one():
    spec = GraphSpec.model_validate({
        "nodes": [{"id": n, "role": "solver", "model": S1} for n in ("s", "x", "y")],
        "edges": [["s", "x"], ["s", "y"]], "output": "y"})
    assert critical_path(spec.model_copy(update={"output": None}), {"s": 1.0, "x": 2.0, "y": 2.0}) == (3.0, ["s", "y"])


def test_a_zero_flops_figure_reads_unknown():
    assert flops_text(0.0) == FLOPS_UNKNOWN and flops_text(None) == FLOPS_UNKNOWN and flops_text(1.234) == "1.23"
    assert flops_phrase(0.0) == f"FLOPs units {FLOPS_UNKNOWN}" and flops_phrase(12.7) == "12.70 FLOPs units"


def test_a_graph_with_one_real_model_is_not_simulated_models():
    real = ModelSpec(id="openai/gpt-x", backend="openai", base_url="https://api.example.com/v1", model="gpt-x",
                     price_in=1.0, price_out=2.0)
    pool = ModelPool([ModelPool.builtin().get(S1), real])
    spec = GraphSpec.model_validate({
        "nodes": [{"id": "a", "role": "solver", "model": S1}, {"id": "b", "role": "fuser", "model": "openai/gpt-x"}],
        "edges": [["a", "b"]]})
    assert summary(spec, pool, QA_PROFILE).simulated is False
