"""`clash repl`: the system booted in-process, and a Python console with top-level `await`.

The event loop runs the system in the main thread; the console reads lines in a worker thread and
runs each statement on the loop, so `await ask("ops.heartbeats", OpsPing())` works as typed.
"""

from __future__ import annotations

import ast
import code
import concurrent.futures
import inspect
import sys
import types
from typing import Any

import anyio
import anyio.from_thread

from actors import message_types
from clash.config import Config, Secrets
from clash.runtime import Runtime, boot

BANNER = """Clash REPL: the system is running in this process.
In scope: rt, system, db, clock, config, tell(actor, msg), ask(actor, msg), actors(), and every message type.
Example: await ask("ops.heartbeats", OpsPing(note="hi"))      Exit with Ctrl-D."""


class AsyncConsole(code.InteractiveConsole):
    def __init__(self, namespace: dict[str, Any], portal: anyio.from_thread.BlockingPortal) -> None:
        super().__init__(namespace)
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self.portal = portal

    def runcode(self, codeobj: types.CodeType) -> None:
        try:
            result = eval(codeobj, self.locals)  # noqa: S307 - this is a REPL
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
    ns.update(rt=rt, system=rt.system, db=rt.db, clock=rt.clock, config=rt.config,
              tell=tell, ask=ask, actors=rt.system.names, __name__="__console__")
    return ns


async def repl(config: Config, secrets: Secrets) -> int:
    async with boot(config, secrets) as rt:
        async with anyio.from_thread.BlockingPortal() as portal:
            console = AsyncConsole(namespace(rt), portal)
            try:
                await anyio.to_thread.run_sync(_interact, console, abandon_on_cancel=True)
            except concurrent.futures.CancelledError:
                pass
    return 0


def _interact(console: AsyncConsole) -> None:
    try:
        console.interact(banner=BANNER, exitmsg="")
    except SystemExit:
        pass
    sys.stdout.flush()
