"""The order in which the runs of one tick reach their account.

The runs of a pilot's tick decide concurrently (engine calls overlap), but each one's commit
(submit to the account, then its rows) waits until every run before it in the tick's order has
committed or given up. The order is fixed by the runs themselves (asset, then run id), so the same
inputs give the same fills, fill numbers and decision `seq` in any process, whatever order the
tasks happen to be scheduled in.
"""

from __future__ import annotations

from collections.abc import Iterable

from clash.trading.waits import NoWork, Waiter, Work


class TickOrder:
    def __init__(self, run_ids: Iterable[str], work: Work) -> None:
        self._order = list(run_ids)
        self._next = 0
        self._done: set[str] = set()
        self._waiting: dict[str, Waiter] = {}
        self._work = work

    def ready(self, run_id: str) -> bool:
        """Every run before `run_id` has committed (a run not in the order is always ready)."""
        return run_id not in self._order or self._order.index(run_id) <= self._next

    async def turn(self, run_id: str) -> None:
        """Wait, idle, for `run_id`'s turn to commit."""
        if self.ready(run_id):
            return
        waiter = self._waiting[run_id] = Waiter(self._work)
        try:
            await waiter.wait()
        finally:
            self._waiting.pop(run_id, None)

    def done(self, run_id: str) -> None:
        """`run_id` committed or gave up (idempotent): the next run in the order may go."""
        if run_id not in self._order or run_id in self._done:
            return
        self._done.add(run_id)
        while self._next < len(self._order) and self._order[self._next] in self._done:
            self._next += 1
        if self._next < len(self._order) and (waiter := self._waiting.get(self._order[self._next])):
            waiter.wake()


UNORDERED = TickOrder((), NoWork())
"""A run alone (a retry, a run that waited for its asset's lease, a dry run): always ready."""
