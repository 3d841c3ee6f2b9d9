"""Group commit: writes handed in while a batch is being committed wait and go together in the next.

Many actors writing small steps would otherwise queue for the single writer one transaction each;
grouping keeps every write whole while sharing the round trips and the commit. A batch that fails
is retried write by write, so one bad write fails alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import anyio

W = TypeVar("W")
R = TypeVar("R")


class _Slot(Generic[W, R]):
    __slots__ = ("write", "done", "result", "error")

    def __init__(self, write: W) -> None:
        self.write = write
        self.done = False
        self.result: R | None = None
        self.error: Exception | None = None


class GroupCommit(Generic[W, R]):
    """`commit(writes)` writes a batch (in its own transactions) and returns one result per write."""

    def __init__(self, commit: Callable[[Sequence[W]], Awaitable[Sequence[R]]]) -> None:
        self._commit = commit
        self._queue: list[_Slot[W, R]] = []
        self._busy = False
        self._idle: anyio.Event | None = None
        self.batches = 0

    async def submit(self, write: W) -> R:
        slot: _Slot[W, R] = _Slot(write)
        self._queue.append(slot)
        while not slot.done:
            if self._busy:
                assert self._idle is not None
                try:
                    await self._idle.wait()
                except BaseException:
                    if slot in self._queue:
                        self._queue.remove(slot)
                    raise
                continue
            self._busy, self._idle = True, anyio.Event()
            batch, self._queue = self._queue, []
            try:
                with anyio.CancelScope(shield=True):
                    await self._flush(batch)
            finally:
                self._busy = False
                self._idle.set()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    async def _flush(self, batch: list[_Slot[W, R]]) -> None:
        try:
            await self._settle(batch)
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error, batch[0].done = exc, True
                return
            for slot in batch:
                try:
                    await self._settle([slot])
                except Exception as one:
                    slot.error, slot.done = one, True

    async def _settle(self, batch: list[_Slot[W, R]]) -> None:
        results = await self._commit([slot.write for slot in batch])
        self.batches += 1
        for slot, result in zip(batch, results, strict=True):
            slot.result, slot.done = result, True
