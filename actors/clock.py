"""Clocks: where every actor gets its time, its timers, its sleeps and its timeouts.

Time inside the kernel is integer milliseconds since the Unix epoch. Seconds given as floats (an
instant, a delay, an interval, a timeout) are converted once by `to_ms`, the one rounding rule of
both clocks: the nearest millisecond, an exact half rounding up (to the later instant). All later
arithmetic is on integers, and `now()` is exactly `now_ms() / 1000`. `LiveClock` applies the same
rule to the wall time it reads.

`LiveClock` reads wall time and fires timers from one scheduler task; its sleeps and timeouts are
anyio's. `VirtualClock` only moves when told: `advance(dt)` and `run_until(t)` fire due timers one
at a time in time order and, after each, wait until every actor of the attached systems is idle.
Its sleeps and timeouts are timers on the same heap, so a test reaches a deadline by advancing to
it, and a day of timers runs in as long as its messages take to handle.

A task waiting in `sleep`, or on a reply inside `move_on_after`/`fail_after`, does not keep its
system busy (see `actors.activity`): the VirtualClock can move to the deadline it waits for. Real
work (a database call, a socket) does keep it busy, so a deadline cannot pass while it runs.

Timers due at the same instant fire in `rank` order (an actor's timers carry its spawn order; the
kernel's own sleeps and timeouts rank 0), then in the order they were scheduled. Spawn order is
program order, so ties never depend on how a backend happened to schedule the actors' start-up
tasks.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

import anyio
import anyio.lowlevel

from .activity import current_work, parked


def to_ms(seconds: float) -> int:
    """Seconds to integer milliseconds: the nearest one, an exact half rounding up."""
    return math.floor(seconds * 1000 + 0.5)


class TimerHandle:
    __slots__ = ("due_ms", "rank", "seq", "callback", "cancelled")

    def __init__(self, due_ms: int, rank: int, seq: int, callback: Callable[[], None]) -> None:
        self.due_ms = due_ms
        self.rank = rank
        self.seq = seq
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: TimerHandle) -> bool:
        return (self.due_ms, self.rank, self.seq) < (other.due_ms, other.rank, other.seq)


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch (`now_ms() / 1000`)."""

    def now_ms(self) -> int:
        """Integer milliseconds since the Unix epoch."""

    def call_at_ms(self, due_ms: int, callback: Callable[[], None], rank: int = 0) -> TimerHandle:
        """Run `callback` (synchronous, quick) at `due_ms`; `rank` orders ties."""

    def attach(self, wait_idle: Callable[[], Awaitable[None]]) -> None:
        """Register a system whose quiescence the clock may wait for."""

    async def run(self) -> None:
        """Drive the timers; the owning system runs this in its task group."""

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` of this clock's time have passed."""

    def move_on_after(self, seconds: float) -> AbstractContextManager[anyio.CancelScope]:
        """A cancel scope cancelled once `seconds` of this clock's time have passed."""

    def fail_after(self, seconds: float) -> AbstractContextManager[anyio.CancelScope]:
        """As `move_on_after`, but leaving raises `TimeoutError` if the deadline cut the block."""


class _TimerHeap:
    def __init__(self) -> None:
        self._heap: list[TimerHandle] = []
        self._seq = itertools.count()

    def push(self, due_ms: int, callback: Callable[[], None], rank: int) -> TimerHandle:
        handle = TimerHandle(due_ms, rank, next(self._seq), callback)
        heapq.heappush(self._heap, handle)
        return handle

    def next_due(self) -> int | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].due_ms if self._heap else None

    def pop(self) -> TimerHandle:
        return heapq.heappop(self._heap)

    def __len__(self) -> int:
        return sum(1 for h in self._heap if not h.cancelled)


@contextmanager
def _failing(scopes: AbstractContextManager[anyio.CancelScope]) -> Iterator[anyio.CancelScope]:
    with scopes as scope:
        yield scope
    if scope.cancelled_caught:
        raise TimeoutError


class LiveClock:
    """Wall time. Timers fire from a single scheduler task, late rather than early."""

    def __init__(self) -> None:
        self._timers = _TimerHeap()
        self._wake: anyio.Event | None = None

    def now(self) -> float:
        return self.now_ms() / 1000

    def now_ms(self) -> int:
        return to_ms(time.time())

    def call_at_ms(self, due_ms: int, callback: Callable[[], None], rank: int = 0) -> TimerHandle:
        handle = self._timers.push(due_ms, callback, rank)
        if self._wake is not None and self._timers.next_due() == due_ms:
            self._wake.set()
        return handle

    def attach(self, wait_idle: Callable[[], Awaitable[None]]) -> None:
        pass

    async def run(self) -> None:
        while True:
            self._wake = anyio.Event()
            due = self._timers.next_due()
            if due is None:
                await self._wake.wait()
                continue
            delay_ms = due - self.now_ms()
            if delay_ms > 0:
                with anyio.move_on_after(delay_ms / 1000):
                    await self._wake.wait()
                continue
            handle = self._timers.pop()
            handle.callback()
            await anyio.lowlevel.checkpoint()

    async def sleep(self, seconds: float) -> None:
        with parked():
            await anyio.sleep(max(to_ms(seconds), 0) / 1000)

    def move_on_after(self, seconds: float) -> AbstractContextManager[anyio.CancelScope]:
        return anyio.move_on_after(to_ms(seconds) / 1000)

    def fail_after(self, seconds: float) -> AbstractContextManager[anyio.CancelScope]:
        return _failing(self.move_on_after(seconds))


class VirtualClock:
    """Time that moves only when a test or a replay says so."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self._now_ms = to_ms(start)
        self._timers = _TimerHeap()
        self._systems: list[Callable[[], Awaitable[None]]] = []
        self.fired = 0

    def now(self) -> float:
        return self._now_ms / 1000

    def now_ms(self) -> int:
        return self._now_ms

    def call_at_ms(self, due_ms: int, callback: Callable[[], None], rank: int = 0) -> TimerHandle:
        return self._timers.push(max(due_ms, self._now_ms), callback, rank)

    def attach(self, wait_idle: Callable[[], Awaitable[None]]) -> None:
        self._systems.append(wait_idle)

    async def run(self) -> None:
        await anyio.sleep_forever()

    async def sleep(self, seconds: float) -> None:
        due_ms = self._now_ms + to_ms(seconds)
        if due_ms <= self._now_ms:
            await anyio.lowlevel.checkpoint()
            return
        woke = anyio.Event()
        with parked() as wake:

            def fire() -> None:
                wake()
                woke.set()

            handle = self.call_at_ms(due_ms, fire)
            try:
                await woke.wait()
            finally:
                handle.cancel()

    @contextmanager
    def move_on_after(self, seconds: float) -> Iterator[anyio.CancelScope]:
        scope = anyio.CancelScope()
        due_ms = self._now_ms + to_ms(seconds)
        if due_ms <= self._now_ms:
            scope.cancel()
            with scope:
                yield scope
            return
        work = current_work()

        def fire() -> None:
            if work is not None:
                work.unpark()  # whatever the block waits on, it runs again now
            scope.cancel()

        handle = self.call_at_ms(due_ms, fire)
        try:
            with scope:
                yield scope
        finally:
            handle.cancel()

    def fail_after(self, seconds: float) -> AbstractContextManager[anyio.CancelScope]:
        return _failing(self.move_on_after(seconds))

    async def settle(self) -> None:
        """Wait until every attached system has handled every message it was sent."""
        for wait_idle in self._systems:
            await wait_idle()

    async def advance(self, seconds: float) -> None:
        await self.run_until_ms(self._now_ms + to_ms(seconds))

    async def run_until(self, t: float) -> None:
        await self.run_until_ms(to_ms(t))

    async def run_until_ms(self, t_ms: int) -> None:
        if t_ms < self._now_ms:
            raise ValueError(
                f"a VirtualClock does not go back: now {self._now_ms} ms, asked for {t_ms} ms"
            )
        await self.settle()
        while (due := self._timers.next_due()) is not None and due <= t_ms:
            handle = self._timers.pop()
            self._now_ms = handle.due_ms
            handle.callback()
            self.fired += 1
            await self.settle()
        self._now_ms = t_ms

    @property
    def pending_timers(self) -> int:
        return len(self._timers)
