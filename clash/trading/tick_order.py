"""The order in which the runs of one tick reach their account.

The runs of a pilot's tick decide concurrently (engine calls overlap), but each one's commit
(submit to the account, then its rows) waits until every run before it in the tick's order has
committed or given up. The order is fixed by the runs themselves (asset, then run id), so the same
inputs give the same fills, fill numbers and decision `seq` in any process, whatever order the
tasks happen to be scheduled in.
"""

from __future__ import annotations

from collections.abc import Iterable

from actors import Latch


class TickOrder:
    def __init__(self, run_ids: Iterable[str]) -> None:
        self._order = list(run_ids)
        self._next = 0
        self._done: set[str] = set()
        self._turns: dict[str, Latch] = {}

    def ready(self, run_id: str) -> bool:
        """Every run before `run_id` has committed (a run not in the order is always ready)."""
        return run_id not in self._order or self._order.index(run_id) <= self._next

    async def turn(self, run_id: str) -> None:
        """Wait for `run_id`'s turn to commit; the waiting run is idle meanwhile (a VirtualClock
        may move), and counts as work again from the moment its turn comes."""
        if self.ready(run_id):
            return
        latch = self._turns[run_id] = Latch()
        try:
            await latch.wait()
        finally:
            self._turns.pop(run_id, None)

    def done(self, run_id: str) -> None:
        """`run_id` committed or gave up (idempotent): the next run in the order may go."""
        if run_id not in self._order or run_id in self._done:
            return
        self._done.add(run_id)
        while self._next < len(self._order) and self._order[self._next] in self._done:
            self._next += 1
        if self._next < len(self._order) and (latch := self._turns.get(self._order[self._next])):
            latch.set()


UNORDERED = TickOrder(())
"""A run alone (a retry, a run that waited for its asset's lease, a dry run): always ready."""
