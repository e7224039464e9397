"""The OpenAI chat-completions wire format, as `rolegraph serve` reads and writes it.

A request's messages become one question for the graph: the last message must be the user's; any
system messages and earlier turns are given before it as context. Only what a graph can honour is
accepted: `seed` picks the run's seed; `temperature`, `max_tokens` and the like are accepted and
ignored (the graph's nodes carry their own settings); `n` > 1 and `tools` are refused with a 400, and so
are JSON mode / a JSON schema (`response_format`) and log-probabilities (`logprobs`, `top_logprobs`),
which change what the reply is and which a graph's free-text answer cannot give (`refuse_reply_shape`).
Replies carry the output node's text as the assistant message, the run's summed token counts as
usage, and the run's details in the extension field `rolegraph`. `finish_reason` is "length" when the
output node's reply was cut at its own max_tokens, else "stop".
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from fastapi.responses import JSONResponse

from rolegraph.serve.answerer import Reply

EXTENSION = "rolegraph"
OWNER = "rolegraph"
CONTEXT_HEAD = "Conversation so far:"
INSTRUCTIONS_HEAD = "Instructions:"
LAST_HEAD = "Reply to the last user message:"
SEED_MIN, SEED_MAX = -(2**63), 2**63 - 1
"""The OpenAI API's seed range (a signed 64-bit integer). A larger seed used to reach the upstream request's
JSON encoder and fail there as a 502; it is the caller's mistake, so it is a 400 here."""
ROLE_NAMES = {"user": "User", "assistant": "Assistant", "system": "System", "developer": "System"}
UNSUPPORTED = "unsupported_value"
"""The `code` OpenAI gives a parameter value a model does not support."""


class RequestError(Exception):
    """A bad request: becomes an OpenAI-style JSON error with `status` (4xx)."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code


def error_body(message: str, kind: str = "invalid_request_error", param: str | None = None, code: str | None = None):
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_response(status: int, message: str, param: str | None = None, code: str | None = None, **headers: str):
    kind = "invalid_request_error" if status < 500 else "server_error"
    if status == 401:
        kind = "authentication_error"
    elif status == 429:
        kind = "rate_limit_error"
    return JSONResponse(error_body(message, kind, param, code), status_code=status, headers=headers or None)


def _content_text(content: Any, index: int) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise RequestError(400, f"messages[{index}]: only text content parts are supported", "messages")
            texts.append(part["text"])
        return "\n".join(texts)
    if content is None:
        return ""
    raise RequestError(400, f"messages[{index}].content must be a string or a list of text parts", "messages")


def question_from(messages: Any) -> str:
    """The graph's question for a chat: the last user message, after the instructions and earlier turns."""
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "'messages' must be a non-empty list", "messages")
    turns: list[tuple[str, str]] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise RequestError(400, f"messages[{i}] must be an object with a 'role'", "messages")
        if m["role"] not in ROLE_NAMES:
            raise RequestError(400, f"messages[{i}]: role '{m['role']}' is not supported", "messages")
        turns.append((m["role"], _content_text(m.get("content"), i)))
    role, last = turns[-1]
    if role != "user":
        raise RequestError(400, "the last message must be the user's (the graph answers it)", "messages")
    if not last.strip():
        raise RequestError(400, "the last user message is empty", "messages")
    system = [t for r, t in turns[:-1] if r in ("system", "developer") and t.strip()]
    earlier = [f"{ROLE_NAMES[r]}: {t}" for r, t in turns[:-1] if r in ("user", "assistant") and t.strip()]
    if not system and not earlier:
        return last
    parts = []
    if system:
        parts += [INSTRUCTIONS_HEAD, *system, ""]
    if earlier:
        parts += [CONTEXT_HEAD, *earlier, ""]
    return "\n".join([*parts, LAST_HEAD, last])


def parse_request(body: Any, model_id: str) -> tuple[str, int, bool, bool]:
    """(question, seed, stream, include_usage) of a chat-completions body, or RequestError."""
    if not isinstance(body, dict):
        raise RequestError(400, "the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "'model' is required", "model")
    if model != model_id:
        raise RequestError(
            404, f"The model `{model}` does not exist; this server serves `{model_id}`.", "model", "model_not_found"
        )
    n = body.get("n", 1)
    if isinstance(n, bool) or n not in (1, None):  # True == 1 in Python, but not in JSON
        raise RequestError(400, "'n' must be 1: a graph run gives one answer", "n")
    if body.get("tools") or body.get("functions"):
        raise RequestError(400, "this model takes no tools: the graph's nodes use their own", "tools")
    refuse_reply_shape(body)
    seed = body.get("seed", 0)
    if seed is None:
        seed = 0
    if isinstance(seed, bool) or not isinstance(seed, int) or not SEED_MIN <= seed <= SEED_MAX:
        raise RequestError(400, f"'seed' must be an integer between {SEED_MIN} and {SEED_MAX}", "seed")
    stream = body.get("stream", False)
    if not isinstance(stream, bool) and stream is not None:
        raise RequestError(400, "'stream' must be a boolean", "stream")
    return question_from(body.get("messages")), seed, bool(stream), include_usage(body)


def include_usage(body: dict[str, Any]) -> bool:
    """`stream_options.include_usage`, checked as `stream` is: a string such as "no" used to turn usage on (it is
    truthy), and a falsy non-object (`0`, `""`, `[]`) passed as no options at all. null means absent."""
    options = body.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, dict):
        raise RequestError(400, "'stream_options' must be an object", "stream_options")
    wanted = options.get("include_usage")
    if wanted is not None and not isinstance(wanted, bool):
        raise RequestError(400, "'stream_options.include_usage' must be a boolean", "stream_options")
    return bool(wanted)


def refuse_reply_shape(body: dict[str, Any]) -> None:
    """A 400 for a request that asks for a reply a graph cannot give: JSON mode or a JSON schema, or per-token
    log-probabilities. Accepted and ignored like `temperature`, they left a client that parses the reply as JSON,
    or reads `logprobs`, with free text or null and no word why. `response_format` of type "text" and `logprobs`
    false (or absent) ask for nothing more than a graph gives, so they stay accepted."""
    shape = body.get("response_format")
    if shape is not None:
        kind = shape.get("type") if isinstance(shape, dict) else None
        if not isinstance(kind, str):
            raise RequestError(400, "'response_format' must be an object with a string 'type'", "response_format")
        if kind != "text":
            raise RequestError(
                400,
                f"response_format type '{kind[:40]}' is not supported: a graph's answer is its output node's free "
                'text, which no JSON mode or schema constrains, so only {"type": "text"} is accepted.',
                "response_format",
                UNSUPPORTED,
            )
    logprobs = body.get("logprobs")
    if logprobs is not None and not isinstance(logprobs, bool):
        raise RequestError(400, "'logprobs' must be a boolean", "logprobs")
    top = body.get("top_logprobs")
    if logprobs or (top is not None and top != 0):
        raise RequestError(
            400,
            "logprobs are not supported: a graph's answer is built from its nodes' replies (often from several "
            "models), so it has no per-token log-probabilities; leave logprobs false and top_logprobs unset.",
            "logprobs" if logprobs else "top_logprobs",
            UNSUPPORTED,
        )


def new_id() -> str:
    return f"chatcmpl-rg-{uuid.uuid4().hex[:24]}"


def usage_of(reply: Reply) -> dict[str, int]:
    return {
        "prompt_tokens": reply.tokens_in,
        "completion_tokens": reply.tokens_out,
        "total_tokens": reply.tokens_in + reply.tokens_out,
    }


def finish_reason(reply: Reply) -> str:
    """The reply's finish reason: "length" when the output node's reply was cut at its max_tokens, else "stop" (a
    client that sees "length" knows the text may end mid-sentence). Read from the output node's `truncated_calls`
    in the run's details (an answerer that does not report it: "stop", as before)."""
    output = reply.details.get("output_node")
    for node in reply.details.get("nodes") or ():
        if isinstance(node, dict) and node.get("id") == output and (node.get("truncated_calls") or 0) > 0:
            return "length"
    return "stop"


def completion(reply: Reply, model_id: str, request_id: str) -> dict[str, Any]:
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model_id,
        "system_fingerprint": OWNER,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text},
                "finish_reason": finish_reason(reply),
                "logprobs": None,
            }
        ],
        "usage": usage_of(reply),
        EXTENSION: reply.details | {"simulated": reply.simulated},
    }


def chunk(
    model_id: str,
    request_id: str,
    delta: dict[str, Any] | None = None,
    finish: str | None = None,
    extension: dict[str, Any] | None = None,
    usage: dict[str, int] | None = None,
    choices: bool = True,
) -> str:
    """One server-sent event holding a `chat.completion.chunk`."""
    body: dict[str, Any] = {
        "id": request_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model_id,
        "system_fingerprint": OWNER,
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish, "logprobs": None}] if choices else [],
    }
    if usage is not None:
        body["usage"] = usage
    if extension is not None:
        body[EXTENSION] = extension
    return f"data: {json.dumps(body, ensure_ascii=False, separators=(',', ':'))}\n\n"


def stream_error(message: str, kind: str = "server_error", code: str | None = None, param: str | None = None) -> str:
    """An error inside an already-started stream (as OpenAI sends it), followed by the end marker; its `param` and
    `code` as the same error's plain response has them."""
    return f"data: {json.dumps(error_body(message, kind, param, code))}\n\n" + DONE


DONE = "data: [DONE]\n\n"
