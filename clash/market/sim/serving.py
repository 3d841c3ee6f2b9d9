"""Serving the simulator with hypercorn on a loopback socket we bind ourselves (so port 0 works and
the caller learns the real port). The market module does not depend on the HTTP package for this."""

from __future__ import annotations

import logging
import socket
from typing import cast

import anyio
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from hypercorn.typing import ASGIFramework
from starlette.applications import Starlette


class SimServer:
    """The simulator's app on `127.0.0.1:port`; `stop()` lets hypercorn finish open requests."""

    def __init__(self, app: Starlette, port: int) -> None:
        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(1024)
        self.port: int = self.sock.getsockname()[1]
        self._shutdown = anyio.Event()
        self._stopped = anyio.Event()

    async def serve(self) -> None:
        config = HypercornConfig()
        config.bind = [f"fd://{self.sock.detach()}"]
        config.graceful_timeout = 1.0
        config.accesslog = None
        config.errorlog = logging.getLogger("hypercorn.error")
        try:
            await serve(cast(ASGIFramework, self.app), config, shutdown_trigger=self._shutdown.wait)
        finally:
            self._stopped.set()

    async def stop(self, timeout: float = 1.0) -> None:
        self._shutdown.set()
        with anyio.move_on_after(timeout):
            await self._stopped.wait()
