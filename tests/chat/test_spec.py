"""`ModelSpec` and `is_loopback_url`: the pool entry's own rules, checked without a pool or a server."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from rolegraph.chat.spec import ModelSpec, is_loopback_url


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/v1", "http://127.9.8.7/v1", "http://[::1]:8080/v1",
                                 "http://localhost:1234/v1", "https://LocalHost/v1"])
def test_loopback_urls_are_recognised(url):
    assert is_loopback_url(url)


@pytest.mark.parametrize("url", [None, "", "https://api.openai.com/v1", "http://10.0.0.1/v1", "http://0.0.0.0:8000/v1",
                                 "http://localhost.example.com/v1", "http://[::2]/v1", "http://[::1", "not a url",
                                 "http://127.0.0.1.nip.io/v1"])
def test_anything_else_is_not_loopback(url):
    assert not is_loopback_url(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/v1", "http://[::1]:9/v1", "http://localhost:9/v1"])
def test_answer_key_is_accepted_for_a_twin_on_loopback_and_makes_it_simulated(url):
    spec = ModelSpec(id="twin/x", backend="openai", base_url=url, answer_key=True)
    assert spec.simulated and spec.answer_key


@pytest.mark.parametrize("url", ["https://api.example.com/v1", None])
def test_answer_key_is_refused_off_loopback_naming_the_url(url):
    with pytest.raises(ValidationError) as err:
        ModelSpec(id="far/x", backend="openai", base_url=url, answer_key=True)
    assert "loopback" in str(err.value) and (url or "a missing base_url") in str(err.value)


def test_answer_key_is_refused_for_a_local_model():
    with pytest.raises(ValidationError, match="not local models"):
        ModelSpec(id="local/x", backend="local", answer_key=True)


def test_only_sim_models_and_twins_are_simulated():
    assert ModelSpec(id="sim/a", backend="sim").simulated
    assert not ModelSpec(id="r/a", backend="openai", base_url="http://127.0.0.1:9/v1").simulated
    assert not ModelSpec(id="local/a", backend="local").simulated


def test_api_name_is_the_model_field_else_the_id_after_its_first_slash():
    assert ModelSpec(id="openai/gpt-x", backend="openai").api_name == "gpt-x"
    assert ModelSpec(id="org/family/name", backend="openai").api_name == "family/name"
    assert ModelSpec(id="plain", backend="openai").api_name == "plain"
    assert ModelSpec(id="a/b", backend="openai", model="served-name").api_name == "served-name"


def test_cost_is_dollars_per_million_tokens_each_way():
    spec = ModelSpec(id="p/x", backend="openai", price_in=2.0, price_out=8.0)
    assert spec.cost(1000, 500) == pytest.approx(0.002 + 0.004)
    assert spec.cost(0, 0) == 0.0
    assert ModelSpec(id="free/x", backend="sim").cost(10**6, 10**6) == 0.0


def test_key_present_reads_the_named_env_var(monkeypatch):
    monkeypatch.delenv("RG_CHAT_SPEC_KEY", raising=False)
    spec = ModelSpec(id="k/x", backend="openai", api_key_env="RG_CHAT_SPEC_KEY")
    assert not spec.key_present()
    monkeypatch.setenv("RG_CHAT_SPEC_KEY", "")
    assert not spec.key_present()  # set but empty is no key
    monkeypatch.setenv("RG_CHAT_SPEC_KEY", "sk-test")
    assert spec.key_present()
    assert ModelSpec(id="k/none", backend="openai").key_present()  # no key needed


@pytest.mark.parametrize("fields", [{"backend": "vllm"}, {"unknown_field": 1}, {"params_b": 0}, {"world": -1},
                                    {"max_concurrency": 0}, {"price_in": -0.1}, {"context_window": 0}])
def test_bad_fields_are_refused(fields):
    with pytest.raises(ValidationError):
        ModelSpec.model_validate({"id": "bad/x", "backend": "sim"} | fields)
