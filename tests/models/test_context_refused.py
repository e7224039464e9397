"""A server's refusal of a prompt past its context names the pool entry's declared `context_window` when there is
one: a window that holds the refused prompt is wrong for the server (the search space admitted graphs by it), which
only the user can fix, in the pool file. The bodies are what llama.cpp's server and OpenAI answer."""
from __future__ import annotations

from rolegraph.models.openai_errors import CONTEXT_CAUSE, context_exceeded_error, context_refused

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
    assert "context_window 32768 is wrong for this server" in msg
    assert "a prompt of 1651 tokens" in msg and "its context is 1024 tokens" in msg
    assert "set context_window to 1024 in the pool file" in msg


def test_the_counts_are_read_from_the_message_when_the_body_has_no_fields():
    text = context_refused(OPENAI, 16000)
    assert "context_window 16000 is wrong" in text and "a prompt of 9000 tokens" in text
    assert "set context_window to 8192 in the pool file" in text


def test_a_prompt_longer_than_the_declared_window_is_not_blamed_on_the_window():
    text = context_refused(LLAMACPP["message"], 1500, LLAMACPP)
    assert "is wrong" not in text and "the prompt, 1651 tokens, is longer than the model's context window 1500" in text


def test_without_a_declared_window_the_server_s_words_alone():
    assert context_refused(LLAMACPP["message"], None, LLAMACPP) == f"context exceeded: {LLAMACPP['message']}"
    assert "context_window" not in str(context_exceeded_error("m", "prompt is too long", 400))
