"""The actor system: spawns named actors under supervisors, looks them up, stops them in order."""

from __future__ import annotations

import logging
import signal
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any, Literal, Protocol

import anyio
import anyio.abc
import msgspec

from .activity import Activity, Work, hold
from .actor import Actor, ActorStats, Cell, Ref
from .clock import Clock, LiveClock, to_ms
from .errors import UnknownActor
from .supervisor import RestartPolicy, Supervisor

logger = logging.getLogger(__name__)

DeadLetterReason = Literal["crashed", "unhandled", "stopped"]


class DeadLetter(msgspec.Struct, frozen=True):
    """A message no actor handled: it crashed the actor twice, was not handled, or came too late."""

    actor: str
    message: Any
    error: str
    at_ms: int
    reason: DeadLetterReason


class DeadLetterSink(Protocol):
    async def record(self, letter: DeadLetter) -> None: ...


class MemoryDeadLetters:
    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def record(self, letter: DeadLetter) -> None:
        self.letters.append(letter)


class System:
    """Use as `async with System(clock) as system:`; leaving the block stops every actor, newest
    first."""

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
        self._activity = Activity()
        self.clock.attach(self._activity.wait_idle)
        self.dead_letters: DeadLetterSink = dead_letters or MemoryDeadLetters()
        self.heartbeat_interval = heartbeat_interval
        self._on_timer_lag = on_timer_lag
        self._cells: dict[str, Cell] = {}
        self._spawned = 0
        self._supervisors = {"root": Supervisor("root", policy, None, self.clock, self._activity)}
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
    def supervisor(
        self, name: str, *, policy: RestartPolicy | None = None, parent: str = "root"
    ) -> str:
        """Add a supervisor node; actors spawned under it are restarted by its policy."""
        if name in self._supervisors or name in self._cells:
            raise ValueError(f"the name {name!r} is taken")
        up = self._supervisors[parent]
        node = Supervisor(name, policy or up.policy, parent, self.clock, self._activity)
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
    ) -> Ref[Any]:
        if name in self._cells or name in self._supervisors:
            raise ValueError(f"an actor named {name!r} already exists")
        self._spawned += 1
        cell = Cell(self, name, factory, supervisor, mailbox_size, self._spawned, self._activity)
        self._cells[name] = cell
        self._supervisors[supervisor].add(cell)
        return cell.ref

    def ref(self, name: str) -> Ref[Any]:
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
        """Stop after its queued messages; cancelled if that takes longer than `timeout` seconds of
        the clock (on a VirtualClock: once the clock is advanced past it). An actor down and waiting
        for a restart is cancelled at once. What it never handled goes to the dead letters."""
        cell = self._cells.get(name)
        if cell is None:
            raise UnknownActor(name)
        if cell.state in ("restarting", "failed"):
            logger.warning("%s stops while down, before its restart", name, extra={"actor": name})
            cell.cancel()
        else:
            with self.clock.move_on_after(timeout):
                await cell.stop()
            if not cell.done.is_set():
                logger.warning(
                    "%s did not stop within %s s: cancelled",
                    name,
                    timeout,
                    extra={"actor": name, "timeout_ms": to_ms(timeout)},
                )
                cell.cancel()
        await cell.done.wait()
        self._supervisors[cell.supervisor].remove(cell)
        del self._cells[name]
        await cell.drain()
        logger.info("%s stopped", name, extra={"actor": name, "processed": cell.processed})

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
    def start_soon(
        self, fn: Callable[..., Awaitable[Any]], *args: Any, name: str | None = None
    ) -> None:
        """Run a task that is not an actor (a server, a socket reader) in the system's task group.

        It does not count as work: the system can be idle while it runs (see `start_work`)."""
        self._task_group().start_soon(self._task, None, fn, args, name=name or _name_of(fn))

    def start_work(
        self, fn: Callable[..., Awaitable[Any]], *args: Any, name: str | None = None
    ) -> None:
        """Run `fn(*args)` as a task that counts as work from this call until it returns.

        The system is not idle (a VirtualClock does not move, `wait_idle` waits) until it is done,
        except while it waits on the clock or on a reply, like an actor handling a message."""
        work = Work(self._activity)
        work.take()
        try:
            self._task_group().start_soon(self._task, work, fn, args, name=name or _name_of(fn))
        except BaseException:
            work.release()
            raise

    def _task_group(self) -> anyio.abc.TaskGroup:
        if self._tg is None:
            raise RuntimeError("the system is not running")
        return self._tg

    @staticmethod
    async def _task(
        work: Work | None, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]
    ) -> None:
        hold(work)
        try:
            await fn(*args)
        finally:
            if work is not None:
                work.release()

    async def wait_idle(self) -> None:
        await self._activity.wait_idle()

    async def dead_letter(
        self, actor: str, msg: Any, error: BaseException, reason: DeadLetterReason
    ) -> None:
        letter = DeadLetter(
            actor=actor, message=msg, error=repr(error), at_ms=self.clock.now_ms(), reason=reason
        )
        context = {
            "actor": actor,
            "reason": reason,
            "message_type": type(msg).__name__,
            "error": letter.error,
        }
        logger.warning(
            "dead letter for %s (%s): %s", actor, reason, type(msg).__name__, extra=context
        )
        try:
            await self.dead_letters.record(letter)
        except Exception:  # the sink failing must not take the actor down with it
            logger.exception("dead letter for %s not recorded: %r", actor, letter, extra=context)

    def timer_fired(self, name: str, lag: float) -> None:
        if self._on_timer_lag is not None:
            self._on_timer_lag(name, lag)


def _name_of(fn: Callable[..., Any]) -> str:
    return str(getattr(fn, "__qualname__", repr(fn)))


__all__ = ["System", "DeadLetter", "DeadLetterSink", "MemoryDeadLetters"]
