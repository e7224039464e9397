"""An OpenAI-compatible server written for the tests: it records every request body it is sent and
answers every chat completion with the same short reply (stdlib only, on loopback, in a thread).

Nothing of rolegraph runs inside it, so what it records is exactly what left the process."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = "Let me think. Final answer: 7"
SERVED_MODEL = "capture-model-v1"  # the id the server reports, whatever name the request used


class CaptureServer:
    """`with CaptureServer() as server:` -> `server.base_url`, `server.bodies` (raw request bodies)."""

    def __init__(self, reply: str = REPLY, served_model: str = SERVED_MODEL):
        self.reply, self.served_model = reply, served_model
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # /v1/models
                self._json({"object": "list", "data": [{"id": outer.served_model, "object": "model"}]})

            def do_POST(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(size) if size else b""
                with outer._lock:
                    outer.bodies.append(body)
                request = json.loads(body or b"{}")
                prompt = sum(len(str(m.get("content") or "")) for m in request.get("messages", [])) // 4
                self._json({
                    "id": f"cmpl-{len(outer.bodies)}", "object": "chat.completion", "created": int(time.time()),
                    "model": outer.served_model,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": outer.reply}}],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": 8, "total_tokens": prompt + 8},
                })

            def _json(self, obj: dict) -> None:
                data = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> CaptureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def seen(self) -> bytes:
        with self._lock:
            return b"\n".join(self.bodies)
