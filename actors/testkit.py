"""Helpers for driving actors on a VirtualClock in tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from .actor import Actor
from .clock import VirtualClock
from .supervisor import RestartPolicy
from .system import MemoryDeadLetters, System

EPOCH_2026 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@asynccontextmanager
async def virtual_system(
    start: float = EPOCH_2026, *, policy: RestartPolicy = RestartPolicy(), **kwargs: Any
) -> AsyncIterator[tuple[System, VirtualClock]]:
    """A running System on a fresh VirtualClock, with in-memory dead letters."""
    clock = VirtualClock(start)
    kwargs.setdefault("dead_letters", MemoryDeadLetters())
    async with System(clock, policy=policy, **kwargs) as system:
        await clock.settle()
        yield system, clock


class Probe(Actor):
    """Records every message it receives, with the clock time it arrived."""

    def __init__(self) -> None:
        self.received: list[tuple[float, Any]] = []

    async def receive(self, msg: Any) -> None:
        self.received.append((self.clock.now(), msg))

    @property
    def messages(self) -> list[Any]:
        return [m for _, m in self.received]
