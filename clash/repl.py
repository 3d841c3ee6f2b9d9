"""`clash repl`: a Python console with top-level `await`, on the system booted in-process or, with
`--connect`, on a running server through its admin messages route.

The event loop runs in the main thread; the console reads lines in a worker thread and runs each
statement on the loop, so `await ask("ops.heartbeats", OpsPing())` works as typed, in both modes.
"""

from __future__ import annotations

import ast
import code
import concurrent.futures
import inspect
import logging
import sys
import types
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import httpx
import msgspec

from actors import decode_message, message_types
from clash.config import Config, Secrets
from clash.datadir import data_dir_lock
from clash.runtime import Runtime, boot

log = logging.getLogger(__name__)

BANNER = """Clash REPL: the system is running in this process.
In scope: rt, system, db, clock, config, tell(actor, msg), ask(actor, msg), actors(),
and every message type.
Example: await ask("ops.heartbeats", OpsPing(note="hi"))      Exit with Ctrl-D."""

REMOTE_BANNER = """Clash REPL connected to {url}: tell and ask go through its admin messages route.
In scope: tell(actor, msg), ask(actor, msg), actors(), and every message type.
Example: await ask("ops.heartbeats", OpsPing(note="hi"))      Exit with Ctrl-D."""


class AsyncConsole(code.InteractiveConsole):
    def __init__(self, namespace: dict[str, Any], portal: anyio.from_thread.BlockingPortal) -> None:
        super().__init__(namespace)
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self.portal = portal

    def runcode(self, codeobj: types.CodeType) -> None:
        try:
            result = eval(codeobj, self.locals)  # evaluating input is what a REPL is for
            if inspect.iscoroutine(result):
                self.portal.call(_await, result)
        except SystemExit:
            raise
        except BaseException:
            self.showtraceback()


async def _await(coro: Any) -> Any:
    return await coro


def namespace(rt: Runtime) -> dict[str, Any]:
    async def tell(actor: str, msg: Any) -> None:
        await rt.system.ref(actor).tell(msg)

    async def ask(actor: str, msg: Any, timeout: float = 10.0) -> Any:
        return await rt.system.ref(actor).ask(msg, timeout=timeout)

    ns: dict[str, Any] = dict(message_types())
    ns.update(
        rt=rt,
        system=rt.system,
        db=rt.db,
        clock=rt.clock,
        config=rt.config,
        tell=tell,
        ask=ask,
        actors=rt.system.names,
        __name__="__console__",
    )
    return ns


async def repl(config: Config, secrets: Secrets, config_path: str | None = None) -> int:
    """Boot on the data dir (holding its lock: never beside a running server), open the console."""
    from clash.system import log_boot

    with data_dir_lock(Path(config.system.data_dir)):
        log_boot(config, config_path, "repl")
        async with boot(config, secrets) as rt:
            await _console(namespace(rt), BANNER)
            log.info("shutting down: the console closed", extra={"reason": "repl exited"})
    return 0


class RemoteError(Exception):
    """The server answered the admin route with an error (`status`, and its `code` if any)."""

    def __init__(self, status: int, code: str | None, text: str) -> None:
        super().__init__(f"HTTP {status} {code}: {text}" if code else f"HTTP {status}: {text}")
        self.status = status
        self.code = code


class Remote:
    """tell/ask/actors against a running server's admin routes."""

    def __init__(self, client: httpx.AsyncClient, url: str, token: str) -> None:
        self.client = client
        self.url = url.rstrip("/")
        self.headers = {"authorization": f"Bearer {token}"}

    async def ask(self, actor: str, msg: Any, timeout: float = 10.0) -> Any:
        """Send `msg` (a message Struct or its tagged JSON as a dict) and return the typed reply."""
        body = msgspec.json.encode({"to": actor, "message": msg, "timeout_s": timeout})
        response = await self.client.post(
            f"{self.url}/api/v1/admin/messages",
            content=body,
            timeout=timeout + 5,
            headers={**self.headers, "content-type": "application/json"},
        )
        return _typed(_checked(response).json()["reply"])

    async def tell(self, actor: str, msg: Any) -> None:
        """The admin route always waits for the actor's answer; tell drops it."""
        await self.ask(actor, msg)

    def actors(self) -> list[str]:
        # Called from the console's thread as a plain function, so a blocking client is right here.
        response = httpx.get(f"{self.url}/api/v1/admin/actors", headers=self.headers, timeout=10)
        return list(_checked(response).json())


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        error = response.json()["error"]
        code, text = error.get("code"), error.get("message", response.text)
    except (ValueError, KeyError, TypeError, AttributeError):
        code, text = None, response.text
    raise RemoteError(response.status_code, code, text)


def _typed(reply: Any) -> Any:
    """A reply that is a tagged message comes back as its type; anything else as plain JSON."""
    if isinstance(reply, dict) and reply.get("type") in message_types():
        try:
            return decode_message(msgspec.json.encode(reply))
        except msgspec.ValidationError:
            return reply
    return reply


async def repl_connect(url: str, token: str) -> int:
    """`clash repl --connect`: the console on a running server; nothing boots here."""
    import clash.modules  # noqa: F401 - registers every message type for the namespace and replies

    async with httpx.AsyncClient() as client:
        remote = Remote(client, url, token)
        await anyio.to_thread.run_sync(
            remote.actors
        )  # fail now, not at the first statement, when the server or the token is wrong
        ns: dict[str, Any] = dict(message_types())
        ns.update(
            tell=remote.tell,
            ask=remote.ask,
            actors=remote.actors,
            url=remote.url,
            __name__="__console__",
        )
        await _console(ns, REMOTE_BANNER.format(url=remote.url))
    return 0


async def _console(ns: dict[str, Any], banner: str) -> None:
    async with anyio.from_thread.BlockingPortal() as portal:
        console = AsyncConsole(ns, portal)
        try:
            await anyio.to_thread.run_sync(_interact, console, banner, abandon_on_cancel=True)
        except concurrent.futures.CancelledError:
            pass


def _interact(console: AsyncConsole, banner: str) -> None:
    try:
        console.interact(banner=banner, exitmsg="")
    except SystemExit:
        pass
    sys.stdout.flush()
