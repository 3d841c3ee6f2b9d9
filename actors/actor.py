"""Actors, their refs, and the cells that run them.

A `Ref` points at a cell, not at an actor instance: the cell owns the mailbox and the statistics and
outlives restarts, while each restart builds a fresh actor from its factory (whose `on_start` reloads
state from storage). A message that crashes the actor is handed once more to the restarted actor; if it
crashes that one too, it goes to the dead letters and an asker gets `ActorCrashed`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import anyio
import msgspec

from .clock import Clock, TimerHandle
from .errors import ActorCrashed, ActorStopped, AskTimeout

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
    __slots__ = ("event", "value", "error")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.value: Any = None
        self.error: BaseException | None = None

    def resolve(self, value: Any) -> None:
        self.value = value
        self.event.set()

    def fail(self, error: BaseException) -> None:
        self.error = error
        self.event.set()


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
        """Queue `msg` and return what the actor's `receive` returns for it."""
        reply = _Reply()
        with anyio.move_on_after(timeout) as scope:
            await self._cell.deliver(Envelope(msg, reply))
            await reply.event.wait()
        if scope.cancelled_caught:
            raise AskTimeout(self.name, msg, timeout)
        if reply.error is not None:
            raise reply.error
        return reply.value

    def __repr__(self) -> str:
        return f"<Ref {self.name}>"


class Actor:
    """Subclass and implement `receive`; keep state in attributes, reload it in `on_start`."""

    _cell: Cell

    async def on_start(self) -> None:
        """Called before the first message of each incarnation (after every restart too)."""

    async def on_stop(self) -> None:
        """Called after a graceful stop, once the queued messages are handled."""

    async def receive(self, msg: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not handle {type(msg).__name__}")

    @property
    def name(self) -> str:
        return self._cell.name

    @property
    def ref(self) -> Ref:
        return self._cell.ref

    @property
    def clock(self) -> Clock:
        return self._cell.system.clock

    @property
    def system(self) -> System:
        return self._cell.system

    def every(self, interval: float, msg: Any, *, first: float | None = None) -> Timer:
        """Send `msg` to this actor every `interval` seconds, first at `first` (default now + interval)."""
        if interval <= 0:
            raise ValueError("a timer interval must be positive")
        start = self.clock.now() + interval if first is None else first
        return Timer(self._cell, start, msg, interval)

    def after(self, delay: float, msg: Any) -> Timer:
        return Timer(self._cell, self.clock.now() + max(delay, 0.0), msg, None)

    def at(self, t: float, msg: Any) -> Timer:
        return Timer(self._cell, t, msg, None)


class Timer:
    """A timer owned by one incarnation of an actor; it delivers `msg` to the actor's own mailbox."""

    __slots__ = ("_cell", "due", "msg", "interval", "_handle")

    def __init__(self, cell: Cell, due: float, msg: Any, interval: float | None) -> None:
        self._cell = cell
        self.due = due
        self.msg = msg
        self.interval = interval
        self._handle: TimerHandle | None = cell.system.clock.call_at(due, self._fire, cell.rank)
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
        now = clock.now()
        self._cell.system.timer_fired(self._cell.name, now - self.due)
        self._cell.deliver_nowait(Envelope(self.msg))
        if self.interval is None:
            self._handle = None
            self._cell.timers.discard(self)
            return
        self.due += self.interval
        if self.due <= now:  # a live clock fell behind: skip the missed ticks rather than burst
            self.due += (now - self.due) // self.interval * self.interval + self.interval
        self._handle = clock.call_at(self.due, self._fire, self._cell.rank)


class Cell:
    """Runs one named actor: its mailbox, its incarnations, its timers and its statistics."""

    def __init__(
        self,
        system: System,
        name: str,
        factory: Callable[[], Actor],
        supervisor: str,
        mailbox_size: int,
        rank: int,
    ) -> None:
        self.system = system
        self.name = name
        self.rank = rank
        self.supervisor = supervisor
        self._factory = factory
        self._send, self._recv = anyio.create_memory_object_stream[Envelope](mailbox_size)
        self.ref: Ref = Ref(self)
        self.actor: Actor | None = None
        self.state: ActorState = "starting"
        self.restarts = 0
        self.processed = 0
        self.last_heartbeat_ms: int | None = None
        self.timers: set[Timer] = set()
        self.done = anyio.Event()
        self._current: Envelope | None = None
        self._retry: Envelope | None = None
        self._starting = True
        self._scope: anyio.CancelScope | None = None
        system.activity.enter()  # the first on_start counts as work, so a VirtualClock waits for it

    # -- delivery ----------------------------------------------------------------------------------
    async def deliver(self, env: Envelope) -> None:
        self.system.activity.enter()
        try:
            await self._send.send(env)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self.system.activity.leave()
            await self._refuse(env)
        except BaseException:  # cancelled while waiting for room: the message was never queued
            self.system.activity.leave()
            raise

    def deliver_nowait(self, env: Envelope) -> None:
        self.system.activity.enter()
        try:
            self._send.send_nowait(env)
        except anyio.WouldBlock:
            self.system.start_soon(self._send_later, env)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self.system.activity.leave()

    async def _send_later(self, env: Envelope) -> None:
        try:
            await self._send.send(env)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self.system.activity.leave()
        except BaseException:
            self.system.activity.leave()
            raise

    async def _refuse(self, env: Envelope) -> None:
        if env.reply is not None:
            raise ActorStopped(self.name)
        if not isinstance(env.msg, (_Stop, _Heartbeat)):
            await self.system.dead_letter(self.name, env.msg, ActorStopped(self.name))

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
            actor._cell = self
            self.actor = actor
            await actor.on_start()
            self._started()
            self.state = "running"
            self.last_heartbeat_ms = self.system.clock.now_ms()
            if self.system.heartbeat_interval:
                actor.every(self.system.heartbeat_interval, _Heartbeat())
            if self._retry is not None:
                env, self._retry = self._retry, None
                await self._handle(actor, env)
            async for env in self._recv:
                if isinstance(env.msg, _Stop):
                    self.state = "stopping"
                    await actor.on_stop()
                    self.system.activity.leave()
                    return
                await self._handle(actor, env)
        except BaseException:
            self._cancel_timers()
            if self._current is not None and not isinstance(self._current.msg, _Stop):
                # Interrupted or crashed mid-message: hand it to the next incarnation.
                self._retry, self._current = self._current, None
            raise

    async def _handle(self, actor: Actor, env: Envelope) -> None:
        self._current = env
        if isinstance(env.msg, _Heartbeat):
            result = None
        else:
            result = await actor.receive(env.msg)
        self._current = None
        self.processed += 1
        self.last_heartbeat_ms = self.system.clock.now_ms()
        if env.reply is not None:
            env.reply.resolve(result)
        self.system.activity.leave()

    async def crashed(self, error: Exception) -> None:
        """Called by the supervisor after `run_once` raised: settle the message that caused it."""
        self._started()
        env = self._retry
        if env is None:
            return
        env.attempts += 1
        if env.attempts < 2:
            return
        self._retry = None
        await self.system.dead_letter(self.name, env.msg, error)
        if env.reply is not None:
            crash = ActorCrashed(self.name, env.msg, error)
            crash.__cause__ = error
            env.reply.fail(crash)
        self.system.activity.leave()

    def _started(self) -> None:
        if self._starting:
            self._starting = False
            self.system.activity.leave()

    def _cancel_timers(self) -> None:
        for timer in list(self.timers):
            timer.cancel()

    async def stop(self) -> None:
        """Stop after the messages already queued; returns once the actor has stopped."""
        if self.state in ("stopped", "failed"):
            return
        await self.deliver(Envelope(_Stop()))
        await self.done.wait()

    def cancel(self) -> None:
        if self._scope is not None:
            self._scope.cancel()

    def finished(self, state: ActorState) -> None:
        self._cancel_timers()
        self.state = state
        self._send.close()
        self.done.set()
