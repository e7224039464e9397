"""A prompt refused as longer than the model's context, when the model's window is right (or unknown): the step that
stopped replays the same items with the same seeds, so `--resume` sends the same request and is refused again (a
search on SmolLM2's 2,048 tokens did, resume after resume). The stop's advice names what works instead; the search
still stops. The refusal is llama.cpp's own server's, on a question longer than its window by itself."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.errors import NodeFailedError, SearchError
from rolegraph.evaluate.result import EvalResult, ItemScore
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.models.openai_errors import (
    CONTEXT_ADVICE,
    CONTEXT_CAUSE,
    RESUME_ADVICE,
    ModelCallError,
    context_refused,
    failure_advice,
)
from rolegraph.optimize.context import _stop_on_failures
from rolegraph.settings import Settings

LLAMACPP = {"code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": 1651, "n_ctx": 1024,
            "message": "request (1651 tokens) exceeds the available context size (1024 tokens), try increasing it"}
PROSE = ("Sir Alexander Fleming was a Scottish physician and microbiologist, best known for discovering the world's "
         "first broadly effective antibiotic substance, which he named penicillin. ")


def _says_what_works(advice: str) -> None:
    assert "continue with --resume" not in advice and "refused again" in advice
    assert "longest items" in advice and "larger context window" in advice and "start the search again" in advice


def test_a_right_or_unknown_window_is_not_sent_to_resume():
    for text in (context_refused(LLAMACPP["message"], 1024, LLAMACPP),  # longer than a right window
                 context_refused(LLAMACPP["message"], None, LLAMACPP),  # no window known
                 context_refused("the request exceeds the available context size, try increasing it", 2048,
                                 {"n_prompt_tokens": 2048, "n_ctx": 2048})):  # at the edge: prompt and reply
        _says_what_works(failure_advice(text))


def test_a_wrong_window_and_other_failures_keep_their_advice():
    wrong = context_refused(LLAMACPP["message"], 32768, LLAMACPP)
    assert failure_advice(wrong) == CONTEXT_ADVICE
    assert failure_advice("model 'm' call failed: connection refused at http://127.0.0.1:9/v1") == RESUME_ADVICE


def _stop(error: str) -> str:
    failed = NodeFailedError(f"node 'answer' (solver on llamacpp/smollm2-135m) failed: ModelCallError: {error}",
                             "answer")
    result = EvalResult(task="jsonl", graph_name="g", n=2, failures=1,
                        items=[ItemScore(item_id="a", error=str(failed)), ItemScore(item_id="b", score=1.0)])
    with pytest.raises(SearchError) as stop:  # the search still stops at its checkpoint
        _stop_on_failures([result])
    return str(stop.value)


def test_llamacpp_refusing_a_question_longer_than_its_window(llamacpp, tmp_path):
    model = OpenAIChatModel(llamacpp.spec(), Settings(home=tmp_path))  # its window: the server's own 2,048
    question = "Summarise: " + PROSE * 80  # ~3,000 tokens by itself

    async def main():
        try:
            return await model.complete([{"role": "user", "content": question}], max_tokens=8)
        finally:
            await model.aclose()

    with pytest.raises(ModelCallError) as refused:
        asyncio.run(main())
    error = str(refused.value)
    assert refused.value.status == 400 and refused.value.cause == CONTEXT_CAUSE
    assert "is wrong for this server" not in error  # the window is right: only a shorter prompt or a larger model
    stop = _stop(error)
    assert stop.startswith("1 of 2 item runs of graph 'g' failed") and "context exceeded" in stop
    _says_what_works(stop)
