"""The estimate printed before a real search prices each call's prompt with the task's own questions: a data file of
~1,900-token questions printed the same tokens and dollars as one of 20-token questions, as the estimate priced every
graph at the task family's token profile alone."""
from __future__ import annotations

import json

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.estimate import estimate_search
from rolegraph.optimize.space import SearchSpace
from rolegraph.tasks.jsonl_task import make_jsonl

from .helpers import TINY_ROLES, tiny_config

SPLITS = ("train", "validation", "test")
PRICE_IN = 1.0  # dollars per million prompt tokens
SHORT = "What is {i} plus three, then doubled?"  # ~15 tokens by any count
LONG_WORDS = 1500  # "alpha beta ..." words: at least 1,500 tokens whatever the tokenizer (a word is one or more)


def _task(tmp_path, name: str, question):
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps({"id": f"q{i}", "question": question(i), "answer": str(i)}) + "\n"
                            for i in range(40)))
    return make_jsonl(data=path)


def _space() -> SearchSpace:
    real = ModelSpec(id="my/model", backend="openai", base_url="http://127.0.0.1:9/v1", price_in=PRICE_IN,
                     price_out=4.0, params_b=1.24, layers=16, hidden=2048, max_concurrency=2)
    return SearchSpace(pool=ModelPool([real]), models=("my/model",), roles=TINY_ROLES, max_nodes=3, budget=None)


def _estimate(task):
    config = tiny_config(iterations=2)
    splits = {s: task.items(s, seed=config.data_seed) for s in SPLITS}
    sizes = {s: len(items) for s, items in splits.items()}
    return estimate_search(_space(), config, sizes, questions=[it for items in splits.values() for it in items])


def test_long_questions_are_priced_dearer_than_short_ones(tmp_path):
    short = _estimate(_task(tmp_path, "short", lambda i: SHORT.format(i=i)))
    long = _estimate(_task(tmp_path, "long", lambda i: f"Question {i}: " + " ".join(["alpha beta"] * (LONG_WORDS // 2))
                                                        + " What is the answer?"))
    assert short.runs == long.runs  # the same plan of item runs: only the prompts differ
    # every item run makes at least one call whose prompt holds its question: at least 1,500 tokens more per run
    more = (LONG_WORDS - 20) * short.item_runs
    assert long.typical.tokens - short.typical.tokens >= more
    assert long.most.tokens - short.most.tokens >= more
    assert long.typical.dollars - short.typical.dollars >= more * PRICE_IN / 1e6
    text = "\n".join(long.lines())
    assert f"tokens ~{short.typical.tokens / 1e3:.0f}k" not in text


def test_short_questions_cost_no_more_than_the_family_profile_assumes(tmp_path):
    """A 15-token question is shorter than the profile's own (a gsm8k problem): the estimate does not grow."""
    task = _task(tmp_path, "short", lambda i: SHORT.format(i=i))
    config = tiny_config(iterations=2)
    sizes = {s: len(task.items(s, seed=config.data_seed)) for s in SPLITS}
    unknown = estimate_search(_space(), config, sizes)  # items not told: the family's profile, as before
    assert _estimate(task).typical.tokens < unknown.typical.tokens
