"""One-for-one supervision with backoff and restart intensity.

A child that crashes is restarted after a backoff; one that crashes more than `max_restarts` times
within `within` seconds (clock time) fails, and its supervisor fails with it: the supervisor's own
parent then restarts the supervisor, which restarts all of its children fresh. At the root, the
system fails.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Protocol

import anyio
import msgspec

from .errors import Escalation

if TYPE_CHECKING:
    from .actor import ActorState
    from .clock import Clock
    from .system import System


class RestartPolicy(msgspec.Struct, frozen=True):
    max_restarts: int = 5
    within: float = 60.0
    backoff: float = 0.01
    backoff_max: float = 1.0

    def delay(self, recent_restarts: int) -> float:
        return min(self.backoff * 2 ** max(recent_restarts - 1, 0), self.backoff_max)


class Child(Protocol):
    name: str
    state: ActorState
    restarts: int
    _scope: anyio.CancelScope | None

    async def run_once(self) -> None: ...

    async def crashed(self, error: Exception) -> None: ...

    def finished(self, state: ActorState) -> None: ...


def root_cause(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


async def supervise(child: Child, policy: RestartPolicy, clock: Clock) -> None:
    """Run `child` until it stops gracefully, restarting it per `policy`; raise `Escalation` past it."""
    recent: deque[float] = deque()
    with anyio.CancelScope() as scope:
        child._scope = scope
        while True:
            try:
                await child.run_once()
            except Exception as exc:
                error = root_cause(exc)
                assert isinstance(error, Exception)
                await child.crashed(error)
                now = clock.now()
                recent.append(now)
                while recent and now - recent[0] > policy.within:
                    recent.popleft()
                if len(recent) > policy.max_restarts:
                    child.state = "failed"
                    raise Escalation(child.name, error) from error
                child.restarts += 1
                child.state = "restarting"
                await anyio.sleep(policy.delay(len(recent)))
                continue
            child.finished("stopped")
            return
    if scope.cancelled_caught:
        child.finished("stopped")


class Supervisor:
    """A node of the supervision tree: runs its children in one task group."""

    def __init__(self, system: System, name: str, policy: RestartPolicy, parent: str | None) -> None:
        self.system = system
        self.name = name
        self.policy = policy
        self.parent = parent
        self.children: list[Child] = []
        self.state: ActorState = "starting"
        self.restarts = 0
        self._scope: anyio.CancelScope | None = None
        self._tg: anyio.abc.TaskGroup | None = None

    def add(self, child: Child) -> None:
        self.children.append(child)
        if self._tg is not None:
            self._tg.start_soon(supervise, child, self.policy, self.system.clock, name=child.name)

    def remove(self, child: Child) -> None:
        if child in self.children:
            self.children.remove(child)

    async def run_once(self) -> None:
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                self.state = "running"
                for child in list(self.children):
                    tg.start_soon(supervise, child, self.policy, self.system.clock, name=child.name)
                await anyio.sleep_forever()
        finally:
            self._tg = None

    async def crashed(self, error: Exception) -> None:
        pass

    def finished(self, state: ActorState) -> None:
        self.state = state
