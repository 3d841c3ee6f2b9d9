"""Known time: an as-of read returns what market memory had received by then, so a correction,
a gap fill or an indicator rebuild after `as_of` leaves every read for that `as_of` unchanged."""

from __future__ import annotations

import msgspec
import pytest

from clash.market import memory
from clash.market.candles import HOUR_MS, MINUTE_MS
from clash.market.messages import (
    HlBackfill,
    HlPollFundingHistory,
    HlRefreshRegistry,
    HlStreamCandles,
    HlSweepCandles,
)
from clash.market.module import HYPERLIQUID

pytestmark = pytest.mark.anyio


async def as_of_reads(db, symbol: str, as_of: int) -> tuple:
    return (
        await memory.candles(db, symbol, "1m", as_of, 10**6),
        await memory.candles(db, symbol, "1h", as_of, 10**6),
        await memory.indicators(db, symbol, as_of, 10**6),
        await memory.latest_prices(db, [symbol], as_of),
    )


async def test_a_correction_and_a_gap_fill_after_as_of_leave_its_reads_unchanged(
    tmp_path, kit
) -> None:
    T0_MS = kit.T0_MS
    async with kit.world(tmp_path, autostart=False) as w:
        await w.ask(HYPERLIQUID, HlRefreshRegistry())
        assert (await w.ask(HYPERLIQUID, HlSweepCandles())).rows == 3 * 60  # T0-60m .. T0-1m
        await w.clock.advance(5 * 60 + 30)  # no sweep: minutes T0 .. T0+4m close unseen
        as_of = w.clock.now_ms()
        before = await as_of_reads(w.db, "ETH", as_of)
        c1m, c1h, ind, prices = before
        assert c1m[-1].t_ms == T0_MS - MINUTE_MS  # closed since, but not received
        assert ind[-1].t_ms == c1m[-1].t_ms
        assert [h.t_ms for h in c1h] == [T0_MS - HOUR_MS]
        assert prices["ETH"][1] == T0_MS

        await w.clock.advance(60)
        (bar,) = w.market.candles("ETH", "1m", T0_MS - 50 * MINUTE_MS, T0_MS - 50 * MINUTE_MS)
        fixed = msgspec.structs.replace(bar, high=bar.high + 100.0, close=bar.close + 1.0)
        await w.refs[HYPERLIQUID].tell(HlStreamCandles(bars=[fixed]))  # a late correction
        assert (await w.ask(HYPERLIQUID, HlSweepCandles())).rows == 3 * 6  # the gap: T0 .. T0+5m
        await w.clock.settle()

        assert await as_of_reads(w.db, "ETH", as_of) == before
        now = w.clock.now_ms()
        live_1m, live_1h, live_ind, _ = await as_of_reads(w.db, "ETH", now)
        assert live_1m[-1].t_ms == T0_MS + 5 * MINUTE_MS
        assert next(c for c in live_1m if c.t_ms == bar.open_ms).c == bar.close + 1.0
        assert live_1h[0].t_ms == T0_MS - HOUR_MS and live_1h[0].h == bar.high + 100.0
        # the indicators computed when the minute closed stay as they were
        assert [r for r in live_ind if r.t_ms < T0_MS] == ind
        # an hour re-rolled while it was still open keeps no revision, a closed one keeps one
        async with w.db.read() as r:
            kept = await r.fetchall("SELECT symbol, t_ms FROM candles_1h_revisions")
        assert kept == [("ETH", T0_MS - HOUR_MS)]


async def test_rows_backfilled_at_boot_are_unknown_before_it(tmp_path, kit) -> None:
    T0_MS = kit.T0_MS
    async with kit.world(tmp_path, autostart=False) as w:
        await w.ask(HYPERLIQUID, HlRefreshRegistry())
        await w.ask(HYPERLIQUID, HlSweepCandles())
        await w.ask(HYPERLIQUID, HlPollFundingHistory())
        settled = await memory.settled_funding(w.db, "BTC", T0_MS)
        assert len(settled) >= 23 and settled[-1].time_ms < T0_MS
        assert len(await memory.candles(w.db, "BTC", "1m", T0_MS)) == 60
        # the minutes and settlements happened before T0, but reached us at T0
        assert await memory.settled_funding(w.db, "BTC", T0_MS - 1) == []
        assert await memory.candles(w.db, "BTC", "1m", T0_MS - 1) == []
        assert await memory.candles(w.db, "BTC", "1h", T0_MS - 1) == []
        assert await memory.latest_prices(w.db, ["BTC"], T0_MS - 1) == {}


async def test_an_indicator_rebuild_after_as_of_leaves_its_reads_unchanged(tmp_path, kit) -> None:
    T0_MS = kit.T0_MS
    async with kit.world(tmp_path, autostart=False) as w:
        await w.ask(HYPERLIQUID, HlRefreshRegistry())
        await w.ask(HYPERLIQUID, HlSweepCandles())
        await w.clock.advance(10 * 60)
        await w.ask(HYPERLIQUID, HlSweepCandles())
        as_of = w.clock.now_ms()
        before = await memory.indicators(w.db, "BTC", as_of, 10**6)
        assert len(before) == 70 and all(r.rsi is not None for r in before[20:])

        await w.clock.advance(60)
        await w.ask(HYPERLIQUID, HlBackfill(start_ms=T0_MS - 30 * MINUTE_MS, symbols=["BTC"]))
        assert await memory.indicators(w.db, "BTC", as_of, 10**6) == before
        live = await memory.indicators(w.db, "BTC", w.clock.now_ms(), 10**6)
        rebuilt = next(r for r in live if r.t_ms == T0_MS - 30 * MINUTE_MS)
        assert rebuilt.rsi is None  # a fresh state from the backfill start
        assert live[:30] == before[:30]
