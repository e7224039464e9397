"""A pool model's provenance says what its replies said where they said it: a serve-sim twin's fingerprint from its
replies (not this process's simulator), and simulated or not as the replies were, whatever the entry configured."""
from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.provenance import model_provenance
from rolegraph.models.pool import ModelPool
from rolegraph.models.provenance import ServedBy


def test_a_reply_fingerprint_is_kept_over_this_process_simulators():
    sim = ModelPool.builtin().get("sim/llama-3.2-1b")
    seen = ServedBy(served_model="sim/llama-3.2-1b", simulated=True, sim_fingerprint="elsewhere0")
    assert model_provenance(sim, seen).sim_fingerprint == "elsewhere0"
    assert model_provenance(sim, None).sim_fingerprint not in (None, "elsewhere0")


def test_simulated_is_what_the_replies_said():
    real = ModelSpec(id="openai/gpt-x", backend="openai", base_url="http://127.0.0.1:9/v1", model="gpt-x")
    assert model_provenance(real, None).simulated is False
    assert model_provenance(real, ServedBy(served_model="twin", simulated=True)).simulated is True
