"""Latest execution prices for the runs (what prop fills at), stale ones left out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from actors import Clock
from clash.market import MarketModule
from clash.trading.context import MarketMemory
from clash.trading.shared_reads import InstantMemo


class LatestMarks:
    """Marks fresher than `max_age_ms`, from the market module (or, without one, market memory's
    latest prices). Read once per instant for every listed asset, so the runs of one tick share
    one read."""

    def __init__(
        self,
        clock: Clock,
        market: MarketModule | None,
        memory: MarketMemory,
        listed: Sequence[str],
        max_age_ms: int,
    ) -> None:
        self.clock = clock
        self.market = market
        self.memory = memory
        self.listed = tuple(listed)
        self.max_age_ms = max_age_ms
        self._memo = InstantMemo()

    async def __call__(self, symbols: Iterable[str]) -> dict[str, Decimal]:
        wanted = list(symbols)
        now = self.clock.now_ms()
        universe = tuple(sorted({*self.listed, *wanted}))
        found = await self._memo.get(now, universe, lambda: self._read(universe, now))
        return {s: px for s in wanted if (px := found.get(s)) is not None}

    async def _read(self, symbols: tuple[str, ...], now: int) -> dict[str, Decimal]:
        if self.market is not None:
            return await self.market.latest_marks(list(symbols), max_age_ms=self.max_age_ms)
        prices = await self.memory.latest_prices(list(symbols), now)
        return {s: px for s, (px, at) in prices.items() if now - at <= self.max_age_ms}
