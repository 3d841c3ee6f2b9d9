"""Work the system must finish before it is idle, and waits that do not count as work.

A VirtualClock moves only when every attached system is idle: no message queued or being handled, no
actor starting, no task started with `System.start_work` still running. Each of those holds one unit
of the system's `Activity`.

A task that holds units (a `Work`) and waits for time (a clock sleep or timeout) or for other work
that is itself counted (an `ask` reply, an actor's stop) *parks*: its units are set aside while it
waits, so the clock can move to its deadline. Whatever wakes it (the clock's timer, the reply) puts
the units back synchronously, before the waiter runs, so the system never looks idle in between.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import anyio
import anyio.lowlevel


class Activity:
    """Counts work told and not yet done, so a VirtualClock can wait until the system is idle."""

    def __init__(self) -> None:
        self.count = 0
        self._idle: anyio.Event | None = None

    def enter(self, units: int = 1) -> None:
        self.count += units

    def leave(self, units: int = 1) -> None:
        if units <= 0:
            return
        self.count -= units
        if self.count == 0 and self._idle is not None:
            self._idle.set()
            self._idle = None

    async def wait_idle(self) -> None:
        await anyio.lowlevel.checkpoint()
        while self.count:
            if self._idle is None:
                self._idle = anyio.Event()
            await self._idle.wait()


class Work:
    """Units of an `Activity` held on behalf of one task (an actor's cell, a `start_work` task).

    While the task is parked its units are set aside: units taken or released meanwhile (a message
    queued for a parked actor) change only `held`, and `unpark` enters them all again.
    """

    __slots__ = ("activity", "held", "_parked", "_parks")

    def __init__(self, activity: Activity) -> None:
        self.activity = activity
        self.held = 0
        self._parked = 0  # the token of the current park, 0 when not parked
        self._parks = 0

    @property
    def parked(self) -> bool:
        return bool(self._parked)

    def take(self) -> None:
        self.held += 1
        if not self._parked:
            self.activity.enter()

    def release(self) -> None:
        self.held -= 1
        if not self._parked:
            self.activity.leave()

    def park(self) -> int:
        """Set the held units aside; returns the token that `unpark` needs to put them back."""
        if not self._parked:
            self.activity.leave(self.held)
        self._parks += 1
        self._parked = self._parks
        return self._parked

    def unpark(self, token: int | None = None) -> None:
        """Put the units back, if parked (by the park `token` names, or by any park without one)."""
        if self._parked and (token is None or token == self._parked):
            self._parked = 0
            self.activity.enter(self.held)


_current: ContextVar[Work | None] = ContextVar("actors_work", default=None)


def current_work() -> Work | None:
    """The work the running task holds, if it holds any."""
    return _current.get()


def hold(work: Work | None) -> None:
    """Declare that the running task holds `work` (called first thing in the task)."""
    _current.set(work)


@contextmanager
def parked() -> Iterator[Callable[[], None]]:
    """Park the running task's work for the block; yields `wake`, which unparks it (idempotent).

    Call `wake` from whatever ends the wait, before the waiter is scheduled. Leaving the block wakes
    too, so a wait that ends otherwise (cancelled from outside) still puts the units back.
    """
    work = _current.get()
    if work is None:
        yield _nothing
        return
    token = work.park()

    def wake() -> None:
        work.unpark(token)

    try:
        yield wake
    finally:
        wake()


def _nothing() -> None:
    pass


class Latch:
    """An `anyio.Event` whose waiters are parked while they wait and unparked when it is set."""

    __slots__ = ("_event", "_wakers")

    def __init__(self) -> None:
        self._event = anyio.Event()
        self._wakers: list[Callable[[], None]] = []

    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        wakers, self._wakers = self._wakers, []
        for wake in wakers:
            wake()
        self._event.set()

    async def wait(self) -> None:
        if self._event.is_set():
            await anyio.lowlevel.checkpoint()
            return
        with parked() as wake:
            self._wakers.append(wake)
            try:
                await self._event.wait()
            finally:
                if wake in self._wakers:
                    self._wakers.remove(wake)
