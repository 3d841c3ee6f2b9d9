"""The Polymarket source actor: a Gamma discovery window every cadence, stored as compact rows.

Each poll stores one snapshot: the immediate and later markets, the recently closed ones, and for
each enabled asset the open markets that name it. A market whose fields do not decode is counted
and left out; the rest of the snapshot is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actors import Actor, Unhandled
from clash.market import memory
from clash.market.actors.common import attempt
from clash.market.config import PolymarketSettings
from clash.market.errors import DecodeError
from clash.market.memory import PolymarketKind, PolymarketRow
from clash.market.messages import PolymarketPoll
from clash.market.polymarket.gamma import GammaClient
from clash.market.polymarket.summary import (
    MarketSummary,
    closed_at_ms,
    discover,
    immediate_market,
    later_market,
    markets_for_asset,
    recently_closed,
    summarize,
    window_start_ms,
)
from clash.market.polymarket.wire import Market
from clash.store import Database

SOURCE = "polymarket"
CHANNEL = "markets"
HOUR_MS = 3_600_000


def decodable(markets: Sequence[Market]) -> tuple[list[Market], dict[str, MarketSummary], int]:
    """The markets whose dates and prices decode, their summaries, and how many did not."""
    good: list[Market] = []
    summaries: dict[str, MarketSummary] = {}
    bad = 0
    for m in markets:
        try:
            summaries[m.id] = summarize(m)
            window_start_ms(m)
            closed_at_ms(m)
        except DecodeError:
            bad += 1
            continue
        good.append(m)
    return good, summaries, bad


def snapshot_rows(
    markets: Sequence[Market], now_ms: int, symbols: Sequence[str], settings: PolymarketSettings
) -> tuple[list[PolymarketRow], int]:
    """(rows, markets skipped as undecodable) for one poll."""
    good, summaries, bad = decodable(markets)
    rows: list[PolymarketRow] = []
    kind: PolymarketKind
    for kind, market in (
        ("immediate", immediate_market(good, now_ms)),
        ("later", later_market(good, now_ms)),
    ):
        if market is not None:
            rows.append(PolymarketRow(kind, "", 0, summaries[market.id]))
    closed = recently_closed(
        good, now_ms, within_ms=settings.closed_within_h * HOUR_MS, limit=settings.recently_closed
    )
    rows += [PolymarketRow("recently_closed", "", i, summaries[m.id]) for i, m in enumerate(closed)]
    found = discover(good, now_ms)
    open_markets = [*found.live, *found.upcoming]
    for symbol in symbols:
        linked = markets_for_asset(open_markets, symbol)[: settings.per_asset]
        rows += [PolymarketRow("asset", symbol, i, summaries[m.id]) for i, m in enumerate(linked)]
    return rows, bad


class PolymarketSource(Actor):
    def __init__(
        self,
        db: Database,
        settings: PolymarketSettings,
        client: GammaClient,
        symbols: Sequence[str],
        *,
        autostart: bool = True,
    ) -> None:
        self.db = db
        self.settings = settings
        self.client = client
        self.symbols = [s for s in symbols if "/" not in s]
        self.autostart = autostart

    async def on_start(self) -> None:
        if self.autostart:
            self.after(0, PolymarketPoll())
            self.every(self.settings.interval_s, PolymarketPoll())

    async def on_stop(self) -> None:
        await self.client.aclose()

    async def receive(self, msg: Any) -> Any:
        match msg:
            case PolymarketPoll():
                return await attempt(self.db, self.clock.now_ms(), SOURCE, CHANNEL, self._poll)
            case _:
                raise Unhandled(msg)

    async def _poll(self) -> int:
        s = self.settings
        now = self.clock.now_ms()
        markets = await self.client.discovery_window(
            now, closed_within_ms=s.closed_within_h * HOUR_MS, max_pages=s.max_pages
        )
        rows, bad = snapshot_rows(markets, now, self.symbols, s)
        linked = {r.symbol: now for r in rows if r.kind == "asset"}
        async with self.db.transaction() as tx:
            if bad:
                await memory.record_failure(
                    tx,
                    SOURCE,
                    CHANNEL,
                    now,
                    f"{bad} markets did not decode",
                    decode=True,
                    count=bad,
                )
            await memory.insert_polymarket(tx, now, rows, self.clock.now_ms())
            await memory.record_success(
                tx, SOURCE, CHANNEL, now, rows=len(rows), data_ms=now, symbols=linked
            )
        return len(rows)
