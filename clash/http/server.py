"""Serving an ASGI app with hypercorn inside the caller's task group, on a socket we bind ourselves
(so port 0 works and the caller learns the real port)."""

from __future__ import annotations

import logging
import socket
from typing import cast

import anyio
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from hypercorn.typing import ASGIFramework
from starlette.types import ASGIApp


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


class Server:
    """One served app: `stop()` asks hypercorn to finish its open requests and waits until it has."""

    def __init__(self, app: ASGIApp, sock: socket.socket) -> None:
        self.app = app
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self._shutdown = anyio.Event()
        self._stopped = anyio.Event()

    async def serve(self) -> None:
        config = HypercornConfig()
        config.bind = [f"fd://{self.sock.detach()}"]
        config.graceful_timeout = 1.0
        config.accesslog = None
        config.errorlog = logging.getLogger("hypercorn.error")  # through clash.logs' handler
        try:
            # Starlette types ASGI scopes as MutableMapping, hypercorn as TypedDicts: the same
            # protocol, two spellings that mypy cannot unify.
            app = cast(ASGIFramework, self.app)
            await serve(app, config, shutdown_trigger=self._shutdown.wait)
        finally:
            self._stopped.set()

    async def stop(self, timeout: float = 3.0) -> None:
        self._shutdown.set()
        with anyio.move_on_after(timeout):
            await self._stopped.wait()
