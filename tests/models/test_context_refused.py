"""A server's refusal of a prompt past its context says what it shows of the model's context window (its pool
entry's, or what its server stated): only a server context known to be smaller than the window makes the window wrong
(the search space admitted graphs by it), which only the user can fix, in the pool file; a window equal to the
server's is never blamed. The bodies are what llama.cpp's server, OpenAI and vLLM answer."""
from __future__ import annotations

from rolegraph.models.openai_errors import (
    CONTEXT_CAUSE,
    TOO_LONG_ADVICE,
    context_exceeded_error,
    context_refused,
    failure_advice,
)

LLAMACPP = {"code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": 1651, "n_ctx": 1024,
            "message": "request (1651 tokens) exceeds the available context size (1024 tokens), try increasing it"}
"""llama.cpp's server (xllamacpp, SmolLM2, n_ctx 1024) refusing a 1,500-word gsm8k question, as recorded."""
OPENAI = ("This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. "
          "Please reduce the length of the messages.")


def test_a_declared_window_that_holds_the_refused_prompt_is_named_wrong():
    exc = context_exceeded_error("llamacpp/smollm2", LLAMACPP["message"], 400, declared=32768, fields=LLAMACPP)
    msg = str(exc)
    assert exc.cause == CONTEXT_CAUSE and exc.status == 400 and "\n" not in msg
    assert msg.startswith("model 'llamacpp/smollm2' call failed: HTTP 400: context exceeded: request (1651 tokens)")
    assert "context window 32768 is wrong for this server" in msg
    assert "a prompt of 1651 tokens" in msg and "its context is 1024 tokens" in msg
    assert "set context_window to 1024 in the pool file" in msg


def test_the_counts_are_read_from_the_message_when_the_body_has_no_fields():
    text = context_refused(OPENAI, 16000)
    assert "context window 16000 is wrong" in text and "a prompt of 9000 tokens" in text
    assert "set context_window to 8192 in the pool file" in text


def test_a_prompt_longer_than_a_right_window_is_not_blamed_on_the_window():
    text = context_refused(LLAMACPP["message"], 1024, LLAMACPP)
    assert "is wrong" not in text and "the prompt, 1651 tokens, is longer than the model's context window of 1024)" in text
    assert "search" not in text  # run, eval and serve say it too: no search estimated anything
    assert failure_advice(text) == TOO_LONG_ADVICE  # a resume would send the same prompt: refused again


def test_a_window_equal_to_the_servers_is_never_called_wrong():
    """The boundary (a prompt of exactly the window, or a message without counts): the window is right, so the
    pool file is not blamed; the same request would be refused again, so the advice is not `--resume` either."""
    at_edge = context_refused("the request exceeds the available context size, try increasing it", 2048,
                              {"n_prompt_tokens": 2048, "n_ctx": 2048})
    openai = context_refused("This model's maximum context length is 4096 tokens. Please reduce the length of the "
                             "messages.", 4096)
    for text in (at_edge, openai):
        assert "is wrong" not in text and "set context_window" not in text
        assert failure_advice(text) == TOO_LONG_ADVICE
    bigger = context_refused("This model's maximum context length is 8192 tokens.", 4096)
    assert "set context_window" not in bigger  # a server with more room than the window is not a wrong window


def test_vllm_s_count_is_the_prompt_not_prompt_and_completion():
    text = context_refused("This model's maximum context length is 8192 tokens. However, you requested 8300 tokens "
                           "(7800 in the messages, 500 in the completion).", 8192)
    assert "7800" in text and "8300 tokens, is longer" not in text


def test_without_a_declared_window_the_server_s_words_alone():
    assert context_refused(LLAMACPP["message"], None, LLAMACPP) == f"context exceeded: {LLAMACPP['message']}"
    assert "context_window" not in str(context_exceeded_error("m", "prompt is too long", 400))
