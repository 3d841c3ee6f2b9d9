"""The Hyperliquid actor against the simulator on a VirtualClock."""

from __future__ import annotations

import logging
from decimal import Decimal

import numpy as np
import pytest

from clash.market import memory
from clash.market.candles import HOUR_MS, MINUTE_MS
from clash.market.indicators import FIELDS, IndicatorState, compute_full
from clash.market.messages import (
    HlPollContexts,
    HlRefreshRegistry,
    HlStreamCandles,
    HlSweepCandles,
)
from clash.market.module import HYPERLIQUID
from clash.market.rollup import rollup_hours

pytestmark = pytest.mark.anyio


async def all_candles(db, symbol):
    async with db.read() as r:
        return await memory.candles_between(r, symbol, 0, 2**62)


async def indicator_rows(db, symbol):
    return await memory.indicators(db, symbol, 2**62, limit=10**6)


async def test_boot_backfill_then_minutes_accumulate(tmp_path, kit) -> None:
    T0_MS = kit.T0_MS
    async with kit.world(tmp_path) as w:
        await w.clock.advance(0)  # boot
        btc = await all_candles(w.db, "BTC")
        assert len(btc) == 60 and btc[-1].t_ms == T0_MS - MINUTE_MS
        assert [c.t_ms for c in btc] == list(range(T0_MS - 60 * MINUTE_MS, T0_MS, MINUTE_MS))
        sim = w.market.candles("BTC", "1m", btc[0].t_ms, T0_MS - 1)
        assert [(c.o, c.h, c.l, c.c) for c in btc] == [
            (b.open, b.high, b.low, b.close) for b in sim
        ]

        await w.clock.advance(90 * 60 + 5)  # the sweep runs 5 s past each minute
        for symbol in ("BTC", "ETH", "HYPE/USDC"):
            rows = await all_candles(w.db, symbol)
            assert len(rows) == 150, symbol
            assert rows[-1].t_ms == T0_MS + 89 * MINUTE_MS

        # 1-hour rollups equal the rollup of the stored minutes, and the source's own 1h candles
        hours = await memory.hour_candles(w.db, "ETH")
        assert hours == rollup_hours(await all_candles(w.db, "ETH"), w.clock.now_ms())
        full = [h for h in hours if h.complete and h.minutes == 60]
        assert full
        sim_hours = {
            b.open_ms: b
            for b in w.market.candles("ETH", "1h", full[0].t_ms, full[-1].t_ms + HOUR_MS - 1)
        }
        for h in full:
            b = sim_hours[h.t_ms]
            assert (h.o, h.h, h.l, h.c) == (b.open, b.high, b.low, b.close)

        # indicators equal a full recomputation over the stored closes
        for symbol in ("BTC", "HYPE/USDC"):
            closes = np.array([c.c for c in await all_candles(w.db, symbol)])
            full_ind = compute_full(closes)
            rows = await indicator_rows(w.db, symbol)
            assert len(rows) == len(closes)
            for f in FIELDS:
                got = np.array([np.nan if getattr(r, f) is None else getattr(r, f) for r in rows])
                np.testing.assert_allclose(
                    got, getattr(full_ind, f), rtol=0, atol=1e-9 * closes.max(), equal_nan=True
                )
            assert rows[-1].rsi is not None and rows[-1].macd_signal is not None


async def test_registry_funding_profiles_and_public_reads(tmp_path, kit) -> None:
    T0_MS = kit.T0_MS
    async with kit.world(tmp_path) as w:
        await w.clock.advance(10 * 60)
        specs = {a.symbol: a for a in await memory.assets(w.db)}
        btc, spot = specs["BTC"], specs["HYPE/USDC"]
        assert (btc.sz_decimals, btc.max_leverage, btc.is_spot, btc.enabled) == (5, 40, False, True)
        assert (
            spot.is_spot and spot.coin == "@107" and spot.enabled and not spot.supports("funding")
        )
        assert not specs["SOL"].enabled and "Crypto/Layer 1" in specs["SOL"].categories
        assert specs["UBTC/USDC"].categories[0] == "Spot"

        marks = await memory.latest_prices(w.db, ["BTC", "HYPE/USDC", "NOPE"])
        assert set(marks) == {"BTC", "HYPE/USDC"} and all(
            isinstance(v, Decimal) for v, _ in marks.values()
        )
        now = w.clock.now_ms()
        assert marks["BTC"] == (
            Decimal(repr(w.market.mid("BTC", now - 5000))),
            now - 5000,
        )  # the 5 s flush
        rates = await memory.funding_rates(w.db, ["BTC", "ETH", "HYPE/USDC"])
        assert set(rates) == {"BTC", "ETH"}
        rate, oracle = rates["BTC"]
        ctx = w.market.asset_ctx("BTC", w.clock.now_ms())
        assert oracle == Decimal(repr(ctx.oracle_px)) and rate == Decimal(repr(ctx.funding))

        funding = await memory.funding(w.db, "BTC", w.clock.now_ms())
        assert len(funding) == 11 and funding[-1].predicted_rate is not None
        assert await memory.funding(w.db, "HYPE/USDC", w.clock.now_ms()) == []
        assert len(await memory.settled_funding(w.db, "ETH", w.clock.now_ms())) >= 23

        boot_profile = await memory.profile(w.db, "ETH", T0_MS)
        assert boot_profile is not None and boot_profile.volatility.rv_1h is not None
        prof = await memory.profile(w.db, "ETH", w.clock.now_ms())
        assert prof is not None and prof.t_ms == T0_MS + 10 * MINUTE_MS  # boot, then every 5 min
        assert prof.liquidity.oi_ntl > 0 and prof.liquidity.impact_spread_bps > 0
        assert prof.volatility.rv_1h is not None and prof.volatility.range_24h_pct > 0
        assert prof.positioning.pressure in ("longs_pay", "shorts_pay", "neutral")


async def test_as_of_reads_never_return_later_rows(tmp_path, kit) -> None:
    T0_MS = kit.T0_MS
    async with kit.world(tmp_path) as w:
        await w.clock.advance(75 * 60)
        as_of = T0_MS + 37 * MINUTE_MS + 30_000
        c1m = await memory.candles(w.db, "BTC", "1m", as_of, limit=10**6)
        assert c1m[-1].t_ms + MINUTE_MS <= as_of and c1m[-1].t_ms == T0_MS + 36 * MINUTE_MS
        c1h = await memory.candles(w.db, "BTC", "1h", as_of, limit=10**6)
        assert all(c.t_ms + HOUR_MS <= as_of for c in c1h)
        ind = await memory.indicators(w.db, "BTC", as_of, limit=10**6)
        assert ind[-1].t_ms == c1m[-1].t_ms
        assert all(f.t_ms <= as_of for f in await memory.funding(w.db, "BTC", as_of, limit=10**6))
        assert all(
            f.time_ms <= as_of for f in await memory.settled_funding(w.db, "BTC", as_of, 10**6)
        )
        prof = await memory.profile(w.db, "BTC", as_of)
        assert prof is not None and prof.t_ms <= as_of
        marks = await memory.latest_prices(w.db, ["BTC"], as_of)
        assert marks["BTC"] == (Decimal(repr(c1m[-1].c)), c1m[-1].t_ms + MINUTE_MS)
        assert await memory.candles(w.db, "BTC", "1m", T0_MS - 10 * HOUR_MS) == []


async def test_restart_resumes_indicators_identically(tmp_path, kit) -> None:
    T0_MS = kit.T0_MS
    async with kit.world(tmp_path) as w:
        await w.clock.advance(20 * 60)
        await w.system.stop(HYPERLIQUID)
        await w.clock.advance(7 * 60)  # down for a while
        w.respawn_hyperliquid()  # reloads its state from SQLite; its boot fills the gap
        await w.clock.advance(20 * 60 + 5)
        for symbol in ("BTC", "HYPE/USDC"):
            candles = await all_candles(w.db, symbol)
            assert [c.t_ms for c in candles] == list(
                range(T0_MS - 60 * MINUTE_MS, T0_MS + 47 * MINUTE_MS, MINUTE_MS)
            )
            # bit for bit what one uninterrupted state gives over the same closes
            state = IndicatorState()
            expected = [memory.IndicatorRow.of(c.t_ms, state.update(c.c)) for c in candles]
            assert await indicator_rows(w.db, symbol) == expected
            assert (await memory.load_indicator_states(w.db))[symbol] == (candles[-1].t_ms, state)


async def test_duplicate_and_out_of_order_candles_are_idempotent(tmp_path, kit) -> None:
    async with kit.world(tmp_path, autostart=False) as w:
        await w.ask(HYPERLIQUID, HlRefreshRegistry())
        first = await w.ask(HYPERLIQUID, HlSweepCandles())
        assert first.rows == 3 * 60
        before = await all_candles(w.db, "ETH")
        ind_before = await indicator_rows(w.db, "ETH")
        state_before = (await memory.load_indicator_states(w.db))["ETH"]

        bars = w.market.candles("ETH", "1m", before[10].t_ms, before[10].t_ms)
        await w.refs[HYPERLIQUID].tell(HlStreamCandles(bars=bars * 3))  # the same candle, thrice
        changed = bars[0].__class__(
            **{
                **{f: getattr(bars[0], f) for f in bars[0].__struct_fields__},
                "close": bars[0].close + 1.0,
                "high": bars[0].high + 1.0,
            }
        )
        await w.refs[HYPERLIQUID].tell(HlStreamCandles(bars=[changed]))  # a late correction
        again = await w.ask(HYPERLIQUID, HlSweepCandles())
        await w.clock.settle()

        assert again.rows == 0
        after = await all_candles(w.db, "ETH")
        assert len(after) == len(before)
        assert (
            after[10].c == bars[0].close + 1.0
            and after[:10] == before[:10]
            and after[11:] == before[11:]
        )
        hour = next(
            h
            for h in await memory.hour_candles(w.db, "ETH")
            if h.t_ms == after[10].t_ms // HOUR_MS * HOUR_MS
        )
        assert hour.h >= after[10].h  # the rollup followed the correction
        assert await indicator_rows(w.db, "ETH") == ind_before
        assert (await memory.load_indicator_states(w.db))["ETH"] == state_before


async def test_truncated_payload_is_counted_and_skipped(tmp_path, kit) -> None:
    async with kit.world(tmp_path, autostart=False) as w:
        await w.ask(HYPERLIQUID, HlRefreshRegistry())
        w.faults.truncate["/info"] = 1
        bad = await w.ask(HYPERLIQUID, HlPollContexts())
        assert bad.decode_error and bad.rows == 0
        counters = {(c.source, c.channel): c for c in await memory.health_counters(w.db)}
        funding = counters[("hyperliquid", "funding")]
        assert funding.decode_errors_total == 1 and funding.errors_total == 0
        assert funding.consecutive_failures == 1

        good = await w.ask(HYPERLIQUID, HlPollContexts())
        assert good.error is None and good.rows == 2
        counters = {(c.source, c.channel): c for c in await memory.health_counters(w.db)}
        assert counters[("hyperliquid", "funding")].consecutive_failures == 0


async def test_server_errors_after_retries_count_as_failures(tmp_path, kit, caplog) -> None:
    caplog.set_level(logging.WARNING, "clash.market")
    async with kit.world(tmp_path, autostart=False) as w:
        await w.ask(HYPERLIQUID, HlRefreshRegistry())
        w.faults.status["/info"] = 500
        result = await w.ask(HYPERLIQUID, HlPollContexts())
        assert result.error and "500" in result.error and not result.decode_error
        assert w.faults.hits["/info"] == 2  # both attempts of the retry policy
        sweep = await w.ask(HYPERLIQUID, HlSweepCandles())
        assert sweep.rows == 0 and sweep.error
        counters = {(c.source, c.channel): c for c in await memory.health_counters(w.db)}
        assert counters[("hyperliquid", "funding")].errors_total == 1
        assert counters[("hyperliquid", "candles_1m")].errors_total == 3  # one per enabled asset
        failed = [(r.source, r.channel) for r in caplog.records if hasattr(r, "channel")]
        assert failed.count(("hyperliquid", "funding")) == 1 and len(failed) == 4

        del w.faults.status["/info"]
        assert (await w.ask(HYPERLIQUID, HlSweepCandles())).rows == 3 * 60
