"""A seeded call on the embedded model answers the same whatever the model served just before it.

llama.cpp reuses the previous request's KV cache for a shared prompt prefix unless told not to; the rest of the prompt
is then evaluated in other batches, whose sums differ in the last bits, and a sampled reply drifts. An eval's answers
changed with its concurrency (the order calls reach the one slot) until every local request said `cache_prompt: false`.
"""
from __future__ import annotations

import asyncio
import sys
import threading
import types

import pytest

from rolegraph.models import local
from rolegraph.models.local_engines import LlamaCppEngine
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

LOCAL_ID = "local/smollm2-135m"
SHORT = 16  # output tokens: the drift showed within 5, and few keep the test fast
TEMPERATURE = 0.8
# A case an eval of loc3.yaml logged: with the prompt cache on, the telephone question drew "Alexander Graham Bell
# invented the telephone." after the Hamlet question and "Alexander Graham Bell\n\nIn this scenario, ..." after the
# Titanic one (both share the solver prompt, up to "Question:\nWho" and "Question:\n").
TARGET_SEED = 3904355907
PREVIOUS_SEEDS = {"Who wrote Hamlet?": 1908338681, "In which year did the Titanic sink?": 3904355907}
SOLVER = (
    "Role: solver.\nYou are a solver in a team of agents that answers one question together. Solve the question\n"
    "step by step and show your reasoning briefly.\n\nOther agents' outputs may follow the question: a plan, evidence "
    "from a search engine, or earlier\nsolutions. Follow a sound plan, rely on the evidence and cite it as [n], and "
    "check earlier\nsolutions step by step instead of copying their answers.\n\nEnd with one line of the form "
    '"Final answer: <answer>", where <answer> is as short as possible:\na name, a date, a number, or yes/no, not a '
    "sentence.\n"
)
run = asyncio.run


def _ask(question: str) -> list[dict]:
    return [{"role": "system", "content": SOLVER}, {"role": "user", "content": f"Question:\n{question}\n"}]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    return local.LocalChatModel(ModelPool.builtin().get(LOCAL_ID), settings)


def test_a_seeded_sampled_reply_does_not_depend_on_the_request_before_it(model):
    target = _ask("Who invented the telephone?")
    replies = {}
    for question, seed in PREVIOUS_SEEDS.items():
        run(model.complete(_ask(question), temperature=TEMPERATURE, max_tokens=SHORT, seed=seed))
        replies[question] = run(model.complete(target, temperature=TEMPERATURE, max_tokens=SHORT, seed=TARGET_SEED))
    texts = [reply.text for reply in replies.values()]
    assert texts[0].strip()
    assert texts[0] == texts[1], texts
    assert len({reply.usage.output_tokens for reply in replies.values()}) == 1


class _RecordingLlama:
    """Stands in for llama-cpp-python's `Llama` (not installed here): records the calls in order."""

    def __init__(self, **kwargs):
        self.calls: list[str] = []

    def reset(self):
        self.calls.append("reset")

    def create_chat_completion(self, **kwargs):
        self.calls.append("stream" if kwargs.get("stream") else "complete")
        return iter([]) if kwargs.get("stream") else {"choices": []}


def test_the_llama_cpp_python_engine_forgets_the_previous_prompt_before_each_call(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=_RecordingLlama))
    engine = LlamaCppEngine(tmp_path / "model.gguf", 512)
    request = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, "temperature": 0.8, "seed": 1}
    engine.chat(request, threading.Event())
    engine.chat_stream(request, lambda chunk: None, threading.Event())
    assert engine._llm.calls == ["reset", "complete", "reset", "stream"]
