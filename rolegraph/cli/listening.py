"""A uvicorn server that says where it listens once its sockets are bound (`serve`, `serve-sim`).

Why not print the address before `run()`: with `--port 0` the port is chosen by the kernel when
uvicorn binds, so a line printed earlier says `:0` and nobody can connect to it. uvicorn's own
"Uvicorn running on ..." line is a log record (hidden at the log levels the commands use, and it
prints the configured port); this reads the bound sockets themselves.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any

import uvicorn

Announce = Callable[[list[str]], None]
"""Called once, after binding, with the base URL (`http://HOST:PORT/v1`) of every listening socket."""
API_PATH = "/v1"


def base_urls(servers: Sequence[Any]) -> list[str]:
    """`http://HOST:PORT/v1` for every TCP socket of asyncio servers (IPv6 hosts in brackets), in order,
    without repeats."""
    urls: list[str] = []
    for server in servers:
        for sock in server.sockets or ():
            if sock.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            host, port = sock.getsockname()[:2]
            shown = f"[{host}]" if sock.family == socket.AF_INET6 else host
            url = f"http://{shown}:{port}{API_PATH}"
            if url not in urls:
                urls.append(url)
    return urls


class ListeningServer(uvicorn.Server):
    """`uvicorn.Server` that calls `announce` with the bound addresses once startup has bound them."""

    def __init__(self, config: uvicorn.Config, announce: Announce):
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:  # a failed bind exits inside startup (uvicorn logs why)
            self._announce(base_urls(self.servers))
