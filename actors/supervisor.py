"""One-for-one supervision with backoff and restart intensity.

A child that crashes is restarted, after a backoff if the policy sets one (slept on the system's
clock); one that crashes more than `max_restarts` times within `within` seconds (clock time) fails,
and its supervisor fails with it: the supervisor's own parent then restarts the supervisor, which
restarts all of its children fresh. At the root, the system fails.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

import anyio
import anyio.abc
import msgspec

from .activity import Activity, Work, hold
from .clock import Clock, to_ms
from .errors import Escalation

if TYPE_CHECKING:
    from .actor import ActorState

logger = logging.getLogger(__name__)


class RestartPolicy(msgspec.Struct, frozen=True):
    """Restart intensity as in OTP: a crashed child restarts at once unless `backoff` is set.

    A backoff is slept on the clock: on a VirtualClock the restart waits until the clock is advanced
    past it, so a test that crashes an actor with a backoff must advance (which it cannot while real
    work, counted as busy, is in flight).
    """

    max_restarts: int = 5
    within: float = 60.0
    backoff: float = 0.0
    backoff_max: float = 1.0

    def delay(self, recent_restarts: int) -> float:
        """Seconds to wait before the next restart, doubling from `backoff` up to `backoff_max`."""
        return min(self.backoff * 2.0 ** max(recent_restarts - 1, 0), self.backoff_max)


def root_cause(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


class Supervised:
    """What a supervisor runs and restarts: an actor's cell, or a supervisor below it.

    While it starts (first start and every restart, backoff included) a child holds one unit of the
    system's activity, so a VirtualClock waits for it to be up before moving on. A child that failed
    or was cancelled with its supervisor parks what it holds (its queued messages) until restarted.
    """

    def __init__(self, name: str, activity: Activity) -> None:
        self.name = name
        self.state: ActorState = "starting"
        self.restarts = 0
        self.work = Work(activity)
        self._starting = False
        self._scope: anyio.CancelScope | None = None

    async def run_once(self) -> None:
        raise NotImplementedError

    async def crashed(self, error: Exception) -> None:
        """Called after `run_once` raised, before the restart or the escalation."""

    def finished(self, state: ActorState) -> None:
        self.state = state

    def prepare(self) -> None:
        """Count the coming start as work (once), from now until the child runs."""
        self.work.unpark()
        if not self._starting:
            self._starting = True
            self.work.take()

    def _started(self) -> None:
        if self._starting:
            self._starting = False
            self.work.release()

    def _let_go(self) -> None:
        """The task that ran this child ends abnormally: nothing it holds moves until a restart."""
        self._started()
        self.work.park()

    def cancel(self) -> None:
        """End the child now (a stop whose grace ran out), running or waiting for a restart."""
        if self._scope is not None:
            self._scope.cancel()
        else:
            self.finished("stopped")

    async def supervise(
        self, policy: RestartPolicy, clock: Clock, parent: Supervised | None = None
    ) -> None:
        """Run until a graceful stop, restarting per `policy`; raise `Escalation` past it."""
        hold(self.work)
        recent: deque[int] = deque()
        within_ms = to_ms(policy.within)
        with anyio.CancelScope() as scope:
            self._scope = scope
            try:
                while True:
                    try:
                        await self.run_once()
                    except Exception as exc:
                        error = root_cause(exc)
                        assert isinstance(error, Exception)
                        context = {"actor": self.name, "error": repr(error)}
                        logger.error(
                            "%s crashed: %r", self.name, error, exc_info=error, extra=context
                        )
                        await self.crashed(error)
                        now = clock.now_ms()
                        recent.append(now)
                        while recent and now - recent[0] > within_ms:
                            recent.popleft()
                        if len(recent) > policy.max_restarts:
                            self.state = "failed"
                            logger.error(
                                "%s exceeded its restart intensity (%d in %s s): escalating",
                                self.name,
                                len(recent),
                                policy.within,
                                extra=context,
                            )
                            if parent is not None:
                                parent.prepare()  # busy from now until the parent has restarted
                            raise Escalation(self.name, error) from error
                        self.restarts += 1
                        self.state = "restarting"
                        delay = policy.delay(len(recent))
                        logger.warning(
                            "%s restarts in %s s (restart %d)",
                            self.name,
                            delay,
                            self.restarts,
                            extra={**context, "restarts": self.restarts, "delay_ms": to_ms(delay)},
                        )
                        self.prepare()
                        await clock.sleep(delay)
                        continue
                    self.finished("stopped")
                    return
            except BaseException:
                self._let_go()
                raise
            finally:
                self._scope = None
        if scope.cancelled_caught:
            self.finished("stopped")


class Supervisor(Supervised):
    """A node of the supervision tree: runs its children in one task group."""

    def __init__(
        self, name: str, policy: RestartPolicy, parent: str | None, clock: Clock, activity: Activity
    ) -> None:
        super().__init__(name, activity)
        self.policy = policy
        self.parent = parent
        self.clock = clock
        self.children: list[Supervised] = []
        self._tg: anyio.abc.TaskGroup | None = None

    def add(self, child: Supervised) -> None:
        self.children.append(child)
        if self._tg is not None:
            self._start(child, self._tg)

    def remove(self, child: Supervised) -> None:
        if child in self.children:
            self.children.remove(child)

    def _start(self, child: Supervised, tg: anyio.abc.TaskGroup) -> None:
        child.prepare()
        tg.start_soon(child.supervise, self.policy, self.clock, self, name=child.name)

    async def run_once(self) -> None:
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                self.state = "running"
                for child in list(self.children):
                    self._start(child, tg)
                self._started()
                await anyio.sleep_forever()
        finally:
            self._tg = None
