"""llama.cpp's own OpenAI-compatible HTTP server, run in-process on the embedded SmolLM2 GGUF.

`xllamacpp.Server` with `hostnames` and `port` set starts the upstream llama.cpp server (the same
code as `llama-server`) inside this process. Nobody here wrote it, so it is how the OpenAI-compatible
path is checked against a real server offline: tests, `python -m benchmarks real_local`, and anyone
who wants a small real endpoint to try rolegraph on (`LlamaCppServer().base_url` is `.../v1`).
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception_type, retry_if_result, stop_after_delay, wait_fixed

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import EngineMissingError
from rolegraph.models.local import INSTALL_HINT, N_THREADS, NO_SPIN, QUIET, gguf_path

LOOPBACK = "127.0.0.1"
DEFAULT_CONTEXT = 2048
READY_TIMEOUT_S = 60.0
READY_POLL_S = 0.1
HEALTH_TIMEOUT_S = 2.0  # one /health probe: short, the readiness loop polls again until READY_TIMEOUT_S
SMOLLM2_PARAMS_B = 0.135  # SmolLM2-135M: 30 layers, hidden 576 (its config.json)
SMOLLM2_LAYERS = 30
SMOLLM2_HIDDEN = 576


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class LlamaCppServer:
    """Start llama.cpp's server on loopback; `close()` (or leaving the `with` block) stops it.

    `parallel` is llama.cpp's number of slots (requests decoded at once); `n_ctx` is shared by them.
    """

    def __init__(
        self,
        *,
        n_ctx: int = DEFAULT_CONTEXT,
        parallel: int = 1,
        port: int | None = None,
        model_path: str | Path | None = None,
        threads: int = N_THREADS,
    ):
        try:
            import xllamacpp as xlc
        except ImportError:
            raise EngineMissingError(f"llama.cpp server needs xllamacpp: {INSTALL_HINT}") from None
        path = Path(model_path) if model_path else gguf_path()
        if path is None or not path.is_file():
            raise EngineMissingError(f"no GGUF model to serve: {INSTALL_HINT}")
        self.model_path = path
        self.n_ctx = n_ctx
        self.parallel = parallel
        self.port = port or free_port()
        params = xlc.CommonParams()
        params.model.path = str(path)
        params.n_ctx = n_ctx * parallel  # llama.cpp splits n_ctx over the slots
        params.n_parallel = parallel
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.cpuparams.poll = NO_SPIN
        params.cpuparams_batch.poll = NO_SPIN
        params.warmup = False
        params.verbosity = QUIET
        params.hostnames = [LOOPBACK]
        params.port = self.port
        self._server: Any = xlc.Server(params)
        self._wait_ready()

    @property
    def root(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (what a pool entry's `base_url` takes)."""
        return f"{self.root}/v1"

    def _wait_ready(self) -> None:
        """Poll /health until it answers 200 (llama.cpp answers 503 while it loads the model, and nothing at
        all before it listens); past READY_TIMEOUT_S the server is closed and the error says so."""
        poll = Retrying(
            stop=stop_after_delay(READY_TIMEOUT_S),
            wait=wait_fixed(READY_POLL_S),
            retry=retry_if_exception_type(httpx.HTTPError) | retry_if_result(lambda ready: not ready),
            retry_error_callback=lambda state: False,
        )
        if not poll(self._healthy):
            self.close()
            raise EngineMissingError(
                f"llama.cpp server on port {self.port} did not become ready within {READY_TIMEOUT_S:g} s "
                "(it answers /health only once the model is loaded)"
            )

    def _healthy(self) -> bool:
        """One /health probe: True when the server answers 200."""
        return httpx.get(f"{self.root}/health", timeout=HEALTH_TIMEOUT_S).status_code == httpx.codes.OK

    def spec(self, model_id: str = "llamacpp/smollm2-135m", **overrides: Any) -> ModelSpec:
        """A pool entry for this server (sizes of SmolLM2-135M for the FLOPs budget), taking as many calls at once
        as the server has slots: one per slot decodes at once, more would only queue in the server where the
        pool's own limit cannot see them."""
        fields: dict[str, Any] = {
            "id": model_id,
            "backend": "openai",
            "base_url": self.base_url,
            "model": "smollm2",
            "params_b": SMOLLM2_PARAMS_B,
            "layers": SMOLLM2_LAYERS,
            "hidden": SMOLLM2_HIDDEN,
            "context_window": self.n_ctx,
            "max_concurrency": self.parallel,
        }
        return ModelSpec(**(fields | overrides))

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            del server  # the binding stops llama.cpp's HTTP loop when the Server object is freed

    def __enter__(self) -> LlamaCppServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
