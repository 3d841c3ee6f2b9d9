"""Waits on the actor clock for the decision runtime: a deadline, a sleep, and the work count.

A VirtualClock only moves while the system is idle, and a run in flight counts as work. So a task
that waits for clock time (or for another run) leaves the count while it waits, and whoever wakes
it enters the count for it *before* waking it: the clock never sees the system idle between the
wake-up and the woken task running. `work_of` is the one place that reaches the kernel's work
tracking (to be swapped for its public API).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import anyio

from actors import Clock


class Work(Protocol):
    """Work told and not yet done: while the count is above zero the system is not idle."""

    def enter(self) -> None: ...

    def leave(self) -> None: ...


class NoWork:
    """Work tracking for waits outside any system (a dry run asked over HTTP is a request, not a task)."""

    def enter(self) -> None:
        pass

    def leave(self) -> None:
        pass


def work_of(system: Any) -> Work:
    return system.activity


class Waiter:
    """One task waiting, idle, until `wake()`; cancellation takes it back into the work count."""

    __slots__ = ("_work", "_event")

    def __init__(self, work: Work) -> None:
        self._work = work
        self._event = anyio.Event()

    def wake(self) -> None:
        if not self._event.is_set():
            self._work.enter()
            self._event.set()

    async def wait(self) -> None:
        self._work.leave()
        try:
            await self._event.wait()
        except BaseException:
            if not self._event.is_set():
                self._event.set()
                self._work.enter()
            raise


async def sleep(clock: Clock, work: Work, seconds: float) -> None:
    """Sleep `seconds` of clock time, idle meanwhile."""
    waiter = Waiter(work)
    handle = clock.call_at(clock.now() + max(seconds, 0.0), waiter.wake)
    try:
        await waiter.wait()
    finally:
        handle.cancel()


@contextmanager
def deadline(clock: Clock, work: Work, seconds: float) -> Iterator[None]:
    """Like `anyio.fail_after`, on the clock: past `seconds` the body is cancelled and
    `TimeoutError` raised. The expiry enters the work count until the body has unwound."""
    fired = False
    with anyio.CancelScope() as scope:

        def expire() -> None:
            nonlocal fired
            fired = True
            work.enter()
            scope.cancel()

        handle = clock.call_at(clock.now() + seconds, expire)
        try:
            yield
        finally:
            handle.cancel()
            if fired:
                work.leave()
    if fired and scope.cancelled_caught:
        raise TimeoutError
