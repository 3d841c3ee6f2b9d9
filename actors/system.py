"""The actor system: spawns named actors under supervisors, looks them up, stops them in order."""

from __future__ import annotations

import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any, Protocol

import anyio
import anyio.abc
import anyio.lowlevel
import msgspec

from .actor import Actor, ActorStats, Cell, Ref
from .clock import Clock, LiveClock
from .errors import UnknownActor
from .supervisor import RestartPolicy, Supervisor, supervise


class DeadLetter(msgspec.Struct, frozen=True):
    actor: str
    message: Any
    error: str
    at_ms: int


class DeadLetterSink(Protocol):
    async def record(self, letter: DeadLetter) -> None: ...


class MemoryDeadLetters:
    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def record(self, letter: DeadLetter) -> None:
        self.letters.append(letter)


class Activity:
    """Counts work told and not yet done, so a VirtualClock can wait until the system is idle."""

    def __init__(self) -> None:
        self.count = 0
        self._idle: anyio.Event | None = None

    def enter(self) -> None:
        self.count += 1

    def leave(self) -> None:
        self.count -= 1
        if self.count == 0 and self._idle is not None:
            self._idle.set()
            self._idle = None

    async def wait_idle(self) -> None:
        await anyio.lowlevel.checkpoint()
        while self.count:
            if self._idle is None:
                self._idle = anyio.Event()
            await self._idle.wait()


class System:
    """Use as `async with System(clock) as system:`; leaving the block stops every actor, newest first."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        dead_letters: DeadLetterSink | None = None,
        policy: RestartPolicy = RestartPolicy(),
        heartbeat_interval: float | None = None,
        on_timer_lag: Callable[[str, float], None] | None = None,
    ) -> None:
        self.clock: Clock = clock or LiveClock()
        self.activity = Activity()
        self.clock.attach(self.activity.wait_idle)
        self.dead_letters: DeadLetterSink = dead_letters or MemoryDeadLetters()
        self.heartbeat_interval = heartbeat_interval
        self._on_timer_lag = on_timer_lag
        self._cells: dict[str, Cell] = {}
        self._spawned = 0
        self._supervisors = {"root": Supervisor(self, "root", policy, None)}
        self._stack: AsyncExitStack | None = None
        self._tg: anyio.abc.TaskGroup | None = None

    async def __aenter__(self) -> System:
        self._stack = AsyncExitStack()
        self._tg = await self._stack.enter_async_context(anyio.create_task_group())
        self._tg.start_soon(self.clock.run, name="clock")
        self._tg.start_soon(self._supervisors["root"].run_once, name="root")
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        assert self._stack is not None and self._tg is not None
        if exc_info[0] is None:
            await self.shutdown()
        self._tg.cancel_scope.cancel()
        try:
            return await self._stack.__aexit__(*exc_info)
        finally:
            self._tg = None

    # -- the tree ----------------------------------------------------------------------------------
    def supervisor(self, name: str, *, policy: RestartPolicy | None = None, parent: str = "root") -> str:
        """Add a supervisor node; actors spawned under it are restarted by its policy."""
        if name in self._supervisors or name in self._cells:
            raise ValueError(f"the name {name!r} is taken")
        up = self._supervisors[parent]
        node = Supervisor(self, name, policy or up.policy, parent)
        self._supervisors[name] = node
        up.add(node)
        return name

    def spawn(
        self,
        name: str,
        factory: Callable[[], Actor],
        *,
        supervisor: str = "root",
        mailbox_size: int = 1024,
    ) -> Ref:
        if name in self._cells or name in self._supervisors:
            raise ValueError(f"an actor named {name!r} already exists")
        self._spawned += 1
        cell = Cell(self, name, factory, supervisor, mailbox_size, self._spawned)
        self._cells[name] = cell
        self._supervisors[supervisor].add(cell)
        return cell.ref

    def ref(self, name: str) -> Ref:
        try:
            return self._cells[name].ref
        except KeyError:
            raise UnknownActor(name) from None

    def names(self) -> list[str]:
        return list(self._cells)

    def actor(self, name: str) -> Actor | None:
        """The current incarnation of an actor (for tests and the REPL)."""
        return self._cells[name].actor if name in self._cells else None

    def stats(self) -> list[ActorStats]:
        return [cell.stats() for cell in self._cells.values()]

    async def stop(self, name: str, timeout: float = 5.0) -> None:
        """Stop after its queued messages (cancelled if that takes longer than `timeout`)."""
        cell = self._cells.get(name)
        if cell is None:
            raise UnknownActor(name)
        with anyio.move_on_after(timeout):
            await cell.stop()
        if not cell.done.is_set():
            cell.cancel()
            await cell.done.wait()
        self._supervisors[cell.supervisor].remove(cell)
        del self._cells[name]

    async def shutdown(self, timeout: float = 5.0) -> None:
        for name in reversed(list(self._cells)):
            await self.stop(name, timeout)

    async def wait_for_signal(self) -> int:
        """Return the signal number once SIGINT or SIGTERM arrives (main thread only)."""
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                return signum
        raise RuntimeError("signal receiver closed")  # pragma: no cover

    # -- services of the kernel --------------------------------------------------------------------
    def start_soon(self, fn: Callable[..., Awaitable[Any]], *args: Any, name: str | None = None) -> None:
        """Run a task that is not an actor (a server, a socket reader) in the system's task group."""
        if self._tg is None:
            raise RuntimeError("the system is not running")
        self._tg.start_soon(fn, *args, name=name)

    async def wait_idle(self) -> None:
        await self.activity.wait_idle()

    async def dead_letter(self, actor: str, msg: Any, error: BaseException) -> None:
        letter = DeadLetter(actor=actor, message=msg, error=repr(error), at_ms=self.clock.now_ms())
        try:
            await self.dead_letters.record(letter)
        except Exception as exc:  # the sink failing must not take the actor down with it
            print(f"dead letter for {actor} not recorded ({exc!r}): {letter}", file=sys.stderr)

    def timer_fired(self, name: str, lag: float) -> None:
        if self._on_timer_lag is not None:
            self._on_timer_lag(name, lag)


__all__ = ["System", "DeadLetter", "DeadLetterSink", "MemoryDeadLetters", "supervise"]
