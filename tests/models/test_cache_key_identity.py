"""Response cache keys (models/cache.py) are the full identity of a call: two requests that can get different
answers never share a key (a shared key replays one's answer as the other's). Here each part the module docs name
is changed alone: the pool id, the model name sent to the endpoint (the same id pointed at another model), log-
probabilities asked for, a response format, and for a simulated model what decides its answers (its size and world)."""
from __future__ import annotations

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.items import AnswerKey
from rolegraph.models.cache import cache_key

REAL = ModelSpec(id="http/m", backend="openai", base_url="http://127.0.0.1:9/v1", model="llama-8b")
SIM = ModelSpec(id="sim/x", backend="sim", params_b=8.0, layers=32, hidden=4096)
CALL = dict(
    messages=[{"role": "user", "content": "What is 2 + 3?"}], temperature=0.7, max_tokens=64, seed=1, tools=None,
    sample=0, answer_key=AnswerKey(item_id="q1", gold="5"),
)


def key(spec: ModelSpec, **overrides) -> str:
    return cache_key(spec, **{**CALL, **overrides})


@pytest.mark.parametrize(
    "other",
    [
        REAL.model_copy(update={"id": "http/m2"}),  # another pool entry at the same endpoint and name
        REAL.model_copy(update={"model": "llama-70b"}),  # the same id pointed at another model
        REAL.model_copy(update={"logprobs": True}),  # a request that also asks for log-probabilities
    ],
    ids=["id", "served-name", "logprobs"],
)
def test_a_real_model_key_changes_with_each_part_of_its_identity(other):
    assert key(other) != key(REAL)


def test_a_response_format_is_part_of_the_key():
    fmt = {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}
    assert key(REAL, response_format=fmt) != key(REAL)
    assert key(REAL, response_format=fmt) != key(REAL, response_format={"type": "json_object"})


@pytest.mark.parametrize(
    "update", [{"params_b": 3.0}, {"layers": 28}, {"hidden": 3072}, {"world": 7}, {"sim_accuracy": {"math": 0.9}}]
)
def test_a_simulated_model_key_changes_with_what_decides_its_answers(update):
    assert key(SIM.model_copy(update=update)) != key(SIM)


def test_a_real_model_key_ignores_the_gold_and_a_simulated_one_does_not():
    other_gold = AnswerKey(item_id="q1", gold="6")
    assert key(REAL, answer_key=other_gold) == key(REAL)
    assert key(SIM, answer_key=other_gold) != key(SIM)
