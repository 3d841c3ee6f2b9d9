"""Actors, their refs, and the cells that run them.

A `Ref` points at a cell, not at an actor instance: the cell owns the mailbox and the statistics
and outlives restarts, while each restart builds a fresh actor from its factory (whose `on_start`
reloads state from storage). A message that crashes the actor is handed once more to the restarted
actor; if it crashes that one too, it goes to the dead letters and an asker gets `ActorCrashed`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import anyio
import msgspec

from .activity import Activity, Latch
from .clock import Clock, TimerHandle, to_ms
from .errors import ActorCrashed, ActorStopped, AskTimeout, Unhandled
from .supervisor import Supervised

if TYPE_CHECKING:
    from .system import System

ActorState = Literal["starting", "running", "restarting", "stopping", "stopped", "failed"]
R = TypeVar("R")


class ActorStats(msgspec.Struct, frozen=True):
    name: str
    supervisor: str
    state: ActorState
    restarts: int
    processed: int
    mailbox_depth: int
    last_heartbeat_ms: int | None


class _Reply:
    __slots__ = ("done", "value", "error")

    def __init__(self) -> None:
        self.done = Latch()
        self.value: Any = None
        self.error: BaseException | None = None

    def resolve(self, value: Any) -> None:
        self.value = value
        self.done.set()

    def fail(self, error: BaseException) -> None:
        self.error = error
        self.done.set()


class Envelope:
    __slots__ = ("msg", "reply", "attempts")

    def __init__(self, msg: Any, reply: _Reply | None = None) -> None:
        self.msg = msg
        self.reply = reply
        self.attempts = 0


class _Stop:
    """Sentinel: stop after the messages already queued."""


class _Heartbeat:
    """Sentinel a cell sends itself to show its mailbox loop is alive."""


class Ref(Generic[R]):
    """The address of an actor: `tell` to send, `ask` to send and await the reply."""

    __slots__ = ("_cell",)

    def __init__(self, cell: Cell) -> None:
        self._cell = cell

    @property
    def name(self) -> str:
        return self._cell.name

    async def tell(self, msg: Any) -> None:
        """Queue `msg`; waits while the mailbox is full, never drops."""
        await self._cell.deliver(Envelope(msg))

    async def ask(self, msg: Any, timeout: float = 5.0) -> Any:
        """Queue `msg` and return what the actor's `receive` returns for it.

        `timeout` is in seconds of the system's clock: on a VirtualClock it passes when the clock
        is advanced past it, while the asker waits without keeping the system busy.
        """
        reply = _Reply()
        with self._cell.system.clock.move_on_after(timeout) as scope:
            await self._cell.deliver(Envelope(msg, reply))
            await reply.done.wait()
        if scope.cancelled_caught and not reply.done.is_set():
            raise AskTimeout(self.name, msg, timeout)
        if reply.error is not None:
            raise reply.error
        return reply.value

    def __repr__(self) -> str:
        return f"<Ref {self.name}>"


class Actor:
    """Subclass and implement `receive`; keep state in attributes, reload it in `on_start`.

    A message `receive` does not handle should end in `raise Unhandled(msg)` (for instance under
    `case _:`): the kernel sends it to the dead letters and the actor goes on.
    """

    _cell: Cell

    def bind(self, cell: Cell) -> None:
        """Called by the kernel when this instance becomes the cell's incarnation."""
        self._cell = cell

    async def on_start(self) -> None:
        """Called before the first message of each incarnation (after every restart too)."""

    async def on_stop(self) -> None:
        """Called after a graceful stop, once the queued messages are handled."""

    async def receive(self, msg: Any) -> Any:
        raise Unhandled(msg)

    @property
    def name(self) -> str:
        return self._cell.name

    @property
    def ref(self) -> Ref[Any]:
        return self._cell.ref

    @property
    def clock(self) -> Clock:
        return self._cell.system.clock

    @property
    def system(self) -> System:
        return self._cell.system

    def every(self, interval: float, msg: Any, *, first: float | None = None) -> Timer:
        """Send `msg` every `interval` seconds, first at `first` (default: now + interval)."""
        interval_ms = to_ms(interval)
        if interval_ms <= 0:
            raise ValueError("a timer interval must be at least 1 ms")
        start = self.clock.now_ms() + interval_ms if first is None else to_ms(first)
        return Timer(self._cell, start, msg, interval_ms)

    def after(self, delay: float, msg: Any) -> Timer:
        return Timer(self._cell, self.clock.now_ms() + max(to_ms(delay), 0), msg, None)

    def at(self, t: float, msg: Any) -> Timer:
        return Timer(self._cell, to_ms(t), msg, None)


class Timer:
    """A timer owned by one incarnation of an actor; it delivers `msg` to the actor's mailbox."""

    __slots__ = ("_cell", "due_ms", "msg", "interval_ms", "_handle")

    def __init__(self, cell: Cell, due_ms: int, msg: Any, interval_ms: int | None) -> None:
        self._cell = cell
        self.due_ms = due_ms
        self.msg = msg
        self.interval_ms = interval_ms
        clock = cell.system.clock
        self._handle: TimerHandle | None = clock.call_at_ms(due_ms, self._fire, cell.rank)
        cell.timers.add(self)

    @property
    def active(self) -> bool:
        return self._handle is not None

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._cell.timers.discard(self)

    def _fire(self) -> None:
        if self._handle is None:
            return
        clock = self._cell.system.clock
        now = clock.now_ms()
        self._cell.system.timer_fired(self._cell.name, (now - self.due_ms) / 1000)
        self._cell.deliver_nowait(Envelope(self.msg))
        if self.interval_ms is None:
            self._handle = None
            self._cell.timers.discard(self)
            return
        self.due_ms += self.interval_ms
        if self.due_ms <= now:  # a live clock fell behind: skip the missed ticks rather than burst
            behind = now - self.due_ms
            self.due_ms += behind // self.interval_ms * self.interval_ms + self.interval_ms
        self._handle = clock.call_at_ms(self.due_ms, self._fire, self._cell.rank)


class Cell(Supervised):
    """Runs one named actor: its mailbox, its incarnations, its timers and its statistics.

    Activity: the cell's `work` holds a unit for each message from its delivery until it is handled
    and, while (re)starting, one for the start. A message that crashes the actor hands its unit to
    the restart, which carries it back to the message when it is retried.
    """

    def __init__(
        self,
        system: System,
        name: str,
        factory: Callable[[], Actor],
        supervisor: str,
        mailbox_size: int,
        rank: int,
        activity: Activity,
    ) -> None:
        super().__init__(name, activity)
        self.system = system
        self.rank = rank
        self.supervisor = supervisor
        self._factory = factory
        self._send, self._recv = anyio.create_memory_object_stream[Envelope](mailbox_size)
        self.ref: Ref[Any] = Ref(self)
        self.actor: Actor | None = None
        self.processed = 0
        self.last_heartbeat_ms: int | None = None
        self.timers: set[Timer] = set()
        self.done = Latch()
        self._current: Envelope | None = None
        self._retry: Envelope | None = None
        self.prepare()  # the first on_start counts as work, so a VirtualClock waits for it

    # -- delivery ----------------------------------------------------------------------------------
    async def deliver(self, env: Envelope) -> None:
        self.work.take()
        try:
            await self._send.send(env)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self.work.release()
            await self._refuse(env)
        except BaseException:  # cancelled while waiting for room: the message was never queued
            self.work.release()
            raise

    def deliver_nowait(self, env: Envelope) -> None:
        self.work.take()
        try:
            self._send.send_nowait(env)
        except anyio.WouldBlock:
            self.system.start_soon(self._send_later, env)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self.work.release()

    async def _send_later(self, env: Envelope) -> None:
        try:
            await self._send.send(env)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self.work.release()
        except BaseException:
            self.work.release()
            raise

    async def _refuse(self, env: Envelope) -> None:
        if env.reply is not None:
            raise ActorStopped(self.name)
        if not isinstance(env.msg, (_Stop, _Heartbeat)):
            await self.system.dead_letter(self.name, env.msg, ActorStopped(self.name), "stopped")

    @property
    def mailbox_depth(self) -> int:
        return self._send.statistics().current_buffer_used

    def stats(self) -> ActorStats:
        return ActorStats(
            name=self.name,
            supervisor=self.supervisor,
            state=self.state,
            restarts=self.restarts,
            processed=self.processed,
            mailbox_depth=self.mailbox_depth,
            last_heartbeat_ms=self.last_heartbeat_ms,
        )

    # -- running -----------------------------------------------------------------------------------
    async def run_once(self) -> None:
        """One incarnation: build the actor, start it, handle messages until a graceful stop."""
        try:
            actor = self._factory()
            actor.bind(self)
            self.actor = actor
            await actor.on_start()
            self.state = "running"
            self.last_heartbeat_ms = self.system.clock.now_ms()
            if self.system.heartbeat_interval:
                actor.every(self.system.heartbeat_interval, _Heartbeat())
            if self._retry is not None:
                env, self._retry = self._retry, None
                self._starting = False  # the start's unit is the retried message's again
                await self._handle(actor, env)
            else:
                self._started()
            async for env in self._recv:
                if isinstance(env.msg, _Stop):
                    self._current = env
                    self.state = "stopping"
                    await actor.on_stop()
                    self._current = None
                    self.work.release()
                    return
                await self._handle(actor, env)
        except BaseException:
            self._cancel_timers()
            current, self._current = self._current, None
            if current is not None:
                if not isinstance(current.msg, _Stop):
                    self._retry = current  # cut mid-message: the next incarnation retries it
                if self._starting:
                    self.work.release()
                else:
                    self._starting = True  # the message's unit now stands for the restart
            raise

    async def _handle(self, actor: Actor, env: Envelope) -> None:
        self._current = env
        result = None
        if not isinstance(env.msg, _Heartbeat):
            try:
                result = await actor.receive(env.msg)
            except Unhandled as exc:
                if exc.actor not in (None, self.name) or exc.message is not env.msg:
                    raise  # another actor's answer to this one's ask: a crash
                self._current = None
                await self._unhandled(env)
                return
        self._current = None
        self.processed += 1
        self.last_heartbeat_ms = self.system.clock.now_ms()
        if env.reply is not None:
            env.reply.resolve(result)
        self.work.release()

    async def _unhandled(self, env: Envelope) -> None:
        error = Unhandled(env.msg, self.name)
        self.processed += 1
        if env.reply is not None:
            env.reply.fail(error)
        try:
            await self.system.dead_letter(self.name, env.msg, error, "unhandled")
        finally:
            self.work.release()

    async def crashed(self, error: Exception) -> None:
        """Settle the message that crashed the actor: retried once, then a dead letter."""
        env = self._retry
        if env is None:
            return
        env.attempts += 1
        if env.attempts < 2:
            return
        self._retry = None
        if env.reply is not None:
            env.reply.fail(ActorCrashed(self.name, env.msg, error))
        await self.system.dead_letter(self.name, env.msg, error, "crashed")

    def _cancel_timers(self) -> None:
        for timer in list(self.timers):
            timer.cancel()

    async def stop(self) -> None:
        """Stop after the messages already queued; returns once the actor has stopped."""
        if self.state == "stopped":
            return
        await self.deliver(Envelope(_Stop()))
        await self.done.wait()

    def finished(self, state: ActorState) -> None:
        self._cancel_timers()
        self.state = state
        self._send.close()
        self.done.set()

    async def drain(self) -> None:
        """After the actor has finished: what it will never handle goes to the dead letters."""
        left: list[Envelope] = []
        if self._retry is not None:
            left.append(self._retry)
            self._retry = None
        while True:
            try:
                env = self._recv.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                break
            self.work.release()
            left.append(env)
        for env in left:
            if isinstance(env.msg, (_Stop, _Heartbeat)):
                continue
            error = ActorStopped(self.name)
            if env.reply is not None:
                env.reply.fail(error)
            await self.system.dead_letter(self.name, env.msg, error, "stopped")
