"""The ASGI layer around `rolegraph serve`'s app: the API key check, and a clean end for the requests
the server cancels as it shuts down.

Why a plain ASGI middleware, not `@app.middleware("http")`: Starlette's `BaseHTTPMiddleware` runs the
app in a task group of its own. When uvicorn stops (Ctrl-C, SIGTERM) with a run in flight, it waits
`timeout_graceful_shutdown` and then cancels the request's task; the CancelledError surfaced inside
`call_next`, uvicorn printed a long traceback, a plain client got a plain-text 500 and a streaming
client's events just stopped. Here the cancellation is caught where the response is written: a
response not yet started becomes a 503 JSON error ("server shutting down"), a started stream gets a
final error event and `[DONE]`, and the task ends without a traceback. The graph run itself is
cancelled by the CancelledError on its way out (no more upstream calls).
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from rolegraph.serve import protocol as wire

SHUTDOWN_STATUS = 503
SHUTDOWN_MESSAGE = "server shutting down; retry the request"
SHUTDOWN_CODE = "server_shutting_down"
EVENT_STREAM = b"text/event-stream"
BEARER = "bearer "


class Guard:
    """Wraps an ASGI app: 401 without the right key (when one is set); a clean 503 / stream end on cancellation."""

    def __init__(self, app: Any, api_key: str | None = None):
        self.app = app
        self.api_key = api_key  # the key's value, never logged

    def _authorized(self, scope: dict[str, Any]) -> bool:
        if self.api_key is None:
            return True
        header = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"authorization"), "")
        given = header[len(BEARER) :] if header.lower().startswith(BEARER) else ""
        return hmac.compare_digest(given.encode(), self.api_key.encode())

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self._authorized(scope):
            response = wire.error_response(401, "Incorrect or missing API key.", code="invalid_api_key")
            await response(scope, receive, send)
            return
        state = {"started": False, "stream": False, "complete": False}

        async def tracked(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
                headers = dict(message.get("headers") or ())
                state["stream"] = headers.get(b"content-type", b"").startswith(EVENT_STREAM)
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                state["complete"] = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # the server cancelled this request once; answering it is the last thing it does
            await _say_shutting_down(scope, receive, send, state)


async def _say_shutting_down(scope: dict[str, Any], receive: Any, send: Any, state: dict[str, bool]) -> None:
    """Finish a cancelled request's response as well as its state allows (the client may be gone: ignored)."""
    try:
        if not state["started"]:
            response = wire.error_response(
                SHUTDOWN_STATUS, SHUTDOWN_MESSAGE, code=SHUTDOWN_CODE, **{"connection": "close"}
            )
            await response(scope, receive, send)
        elif state["stream"] and not state["complete"]:
            event = wire.stream_error(SHUTDOWN_MESSAGE, code=SHUTDOWN_CODE)
            await send({"type": "http.response.body", "body": event.encode(), "more_body": False})
    except OSError:
        pass
