"""Clocks: where every actor gets its time and its timers.

`LiveClock` reads wall time and fires timers from one scheduler task. `VirtualClock` only moves when
told: `advance(dt)` and `run_until(t)` fire due timers one at a time in time order and, after each, wait until every actor of the attached systems is idle.
A day of timers therefore runs in as long as its messages take to handle.

Timers due at the same instant fire in `rank` order (an actor's timers carry its spawn order), then in
the order they were scheduled. Spawn order is program order, so ties never depend on how a backend
happened to schedule the actors' start-up tasks.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import anyio
import anyio.lowlevel


class TimerHandle:
    __slots__ = ("due", "rank", "seq", "callback", "cancelled")

    def __init__(self, due: float, rank: int, seq: int, callback: Callable[[], None]) -> None:
        self.due = due
        self.rank = rank
        self.seq = seq
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: TimerHandle) -> bool:
        return (self.due, self.rank, self.seq) < (other.due, other.rank, other.seq)


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""

    def now_ms(self) -> int:
        """Integer milliseconds since the Unix epoch."""

    def call_at(self, due: float, callback: Callable[[], None], rank: int = 0) -> TimerHandle:
        """Run `callback` (synchronous, quick) at time `due`; `rank` orders ties."""

    def attach(self, wait_idle: Callable[[], Awaitable[None]]) -> None:
        """Register a system whose quiescence the clock may wait for."""

    async def run(self) -> None:
        """Drive the timers; the owning system runs this in its task group."""


class _TimerHeap:
    def __init__(self) -> None:
        self._heap: list[TimerHandle] = []
        self._seq = itertools.count()

    def push(self, due: float, callback: Callable[[], None], rank: int) -> TimerHandle:
        handle = TimerHandle(due, rank, next(self._seq), callback)
        heapq.heappush(self._heap, handle)
        return handle

    def next_due(self) -> float | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].due if self._heap else None

    def pop(self) -> TimerHandle:
        return heapq.heappop(self._heap)

    def __len__(self) -> int:
        return sum(1 for h in self._heap if not h.cancelled)


class LiveClock:
    """Wall time. Timers fire from a single scheduler task, late rather than early."""

    def __init__(self) -> None:
        self._timers = _TimerHeap()
        self._wake: anyio.Event | None = None

    def now(self) -> float:
        return time.time()

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def call_at(self, due: float, callback: Callable[[], None], rank: int = 0) -> TimerHandle:
        handle = self._timers.push(due, callback, rank)
        if self._wake is not None and self._timers.next_due() == due:
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
            delay = due - self.now()
            if delay > 0:
                with anyio.move_on_after(delay):
                    await self._wake.wait()
                continue
            handle = self._timers.pop()
            handle.callback()
            await anyio.lowlevel.checkpoint()


class VirtualClock:
    """Time that moves only when a test or a replay says so."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self._now = float(start)
        self._timers = _TimerHeap()
        self._systems: list[Callable[[], Awaitable[None]]] = []
        self.fired = 0

    def now(self) -> float:
        return self._now

    def now_ms(self) -> int:
        return round(self._now * 1000)

    def call_at(self, due: float, callback: Callable[[], None], rank: int = 0) -> TimerHandle:
        return self._timers.push(max(due, self._now), callback, rank)

    def attach(self, wait_idle: Callable[[], Awaitable[None]]) -> None:
        self._systems.append(wait_idle)

    async def run(self) -> None:
        await anyio.sleep_forever()

    async def settle(self) -> None:
        """Wait until every attached system has handled every message it was sent."""
        for wait_idle in self._systems:
            await wait_idle()

    async def advance(self, seconds: float) -> None:
        await self.run_until(self._now + seconds)

    async def run_until(self, t: float) -> None:
        if t < self._now:
            raise ValueError(f"a VirtualClock does not go back: now {self._now}, asked for {t}")
        await self.settle()
        while (due := self._timers.next_due()) is not None and due <= t:
            handle = self._timers.pop()
            self._now = handle.due
            handle.callback()
            self.fired += 1
            await self.settle()
        self._now = t

    @property
    def pending_timers(self) -> int:
        return len(self._timers)
