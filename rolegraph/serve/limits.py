"""What one served graph may take by default, in a module that imports nothing: the FastAPI app
(`serve/app.py`) and `rolegraph serve`'s options both state them from here, so the command line shows the
server's own defaults without importing the server (FastAPI, the OpenAI client)."""

from __future__ import annotations

DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MAX_CONCURRENT = 4
DEFAULT_MAX_WAITING = 16
