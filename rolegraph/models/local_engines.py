"""The two in-process llama.cpp engines behind the embedded local model, each stoppable mid-generation.

A generation runs in a worker thread; the coroutine that awaits it may be cancelled (a `rolegraph serve`
client disconnected, a run timed out). Every engine call takes a `threading.Event`: once it is set the
engine stops at the next decoded token, so the thread ends, lets go of the model's lock, and the next
call does not queue behind an answer nobody will read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

N_THREADS = 2
QUIET = -1  # xllamacpp verbosity that silences llama.cpp's per-request log lines
NO_SPIN = 0  # llama.cpp thread polling level: 0 sleeps instead of spinning, far kinder on shared cores
STREAM_USAGE = {"include_usage": True}  # a streamed reply's last chunk carries its token counts
CACHE_PROMPT = False
"""llama.cpp's `cache_prompt` for every request. Reusing the previous request's KV cache for a shared prompt prefix
splits the prompt into other batches, whose floating-point sums differ in the last bits: a seeded reply then
depended on which request the slot served before, so an eval's answers changed with its concurrency (3 of 16 items
differed between two runs). Evaluating each prompt whole costs its shared prefix again. llama-cpp-python reuses a
prefix the same way (`Llama.generate`'s prefix match), so `LlamaCppEngine` resets the model's tokens before a call."""


class Engine(Protocol):
    def chat(self, request: dict[str, Any], stop: threading.Event) -> dict[str, Any]: ...

    def chat_stream(
        self, request: dict[str, Any], on_chunk: Callable[[dict[str, Any]], None], stop: threading.Event
    ) -> None: ...


class XLlamaEngine:
    """llama.cpp's own server loop, in-process: applies the GGUF's chat template (jinja)."""

    def __init__(self, path: Path, n_ctx: int):
        import xllamacpp as xlc

        params = xlc.CommonParams()
        params.model.path = str(path)
        params.n_ctx = n_ctx
        params.n_parallel = 1
        params.cpuparams.n_threads = N_THREADS
        params.cpuparams_batch.n_threads = N_THREADS
        params.cpuparams.poll = NO_SPIN
        params.cpuparams_batch.poll = NO_SPIN
        params.warmup = False
        params.offline = True
        params.verbosity = QUIET
        self._server = xlc.Server(params)

    def chat(self, request: dict[str, Any], stop: threading.Event) -> dict[str, Any]:
        """The non-streamed reply, decoded as a stream and put back together: xllamacpp's non-streamed call
        cannot be stopped (its should-stop hook is fixed to "never" and its callback runs once, at the end),
        while a streamed one stops when its callback says so. Same tokens, text, finish reason and usage."""
        reply = _Assembled()
        self.chat_stream(request, reply.add, stop)
        return reply.response()

    def chat_stream(
        self, request: dict[str, Any], on_chunk: Callable[[dict[str, Any]], None], stop: threading.Event
    ) -> None:
        """llama.cpp calls back once per chunk as tokens are decoded; returning True stops the generation."""

        def callback(chunk: dict[str, Any]) -> bool:
            if stop.is_set():
                return True
            on_chunk(chunk)
            return stop.is_set()

        body = {**request, "stream": True, "stream_options": STREAM_USAGE, "cache_prompt": CACHE_PROMPT}
        self._server.handle_chat_completions(body, callback)


class _Assembled:
    """The chunks of one streamed reply, as the non-streamed reply llama.cpp would have sent."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.finish: str | None = None
        self.usage: dict[str, Any] = {}
        self.error: dict[str, Any] | None = None

    def add(self, chunk: dict[str, Any]) -> None:
        if "error" in chunk:
            self.error = chunk
        for choice in chunk.get("choices") or []:
            self.parts.append((choice.get("delta") or {}).get("content") or "")
            self.finish = choice.get("finish_reason") or self.finish
        self.usage = chunk.get("usage") or self.usage

    def response(self) -> dict[str, Any]:
        if self.error is not None:
            return self.error
        message = {"role": "assistant", "content": "".join(self.parts)}
        return {"choices": [{"message": message, "finish_reason": self.finish}], "usage": self.usage}


class LlamaCppEngine:
    """llama-cpp-python fallback: same OpenAI-shaped request and response."""

    def __init__(self, path: Path, n_ctx: int):
        from llama_cpp import Llama

        self._llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=N_THREADS, verbose=False)

    def chat(self, request: dict[str, Any], stop: threading.Event) -> dict[str, Any]:
        """`stop` is not honoured once started: llama-cpp-python's non-streamed call has no way to stop it, and
        its streamed chunks carry no token counts to rebuild the reply's usage from."""
        self._llm.reset()  # no reuse of the previous prompt's prefix (CACHE_PROMPT)
        return self._llm.create_chat_completion(
            messages=request["messages"],
            max_tokens=request["max_tokens"],
            temperature=request["temperature"],
            seed=request["seed"],
            response_format=_llama_cpp_format(request.get("response_format")),
        )

    def chat_stream(
        self, request: dict[str, Any], on_chunk: Callable[[dict[str, Any]], None], stop: threading.Event
    ) -> None:
        """Leaving the loop closes llama-cpp-python's generator, which ends the generation."""
        self._llm.reset()  # no reuse of the previous prompt's prefix (CACHE_PROMPT)
        for chunk in self._llm.create_chat_completion(
            messages=request["messages"],
            max_tokens=request["max_tokens"],
            temperature=request["temperature"],
            seed=request["seed"],
            stream=True,
        ):
            if stop.is_set():
                return
            on_chunk(chunk)


def _llama_cpp_format(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """llama-cpp-python takes a schema as `{"type": "json_object", "schema": ...}`, not `json_schema`."""
    if response_format is None or response_format.get("type") != "json_schema":
        return response_format
    return {"type": "json_object", "schema": (response_format.get("json_schema") or {}).get("schema", {})}
