"""The Hyperliquid source actor: registry, candles, indicators, mids, funding and profiles.

Every cadence is one of its timers. REST calls share one weight budget; the candle sweep defers
work the budget cannot take rather than wait for it. A failed or undecodable poll is counted in
health and skipped; the actor keeps running.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from actors import Actor, Unhandled
from clash.market import memory, registry
from clash.market.actors.candle_feed import SOURCE, CandleFeed, Progress
from clash.market.actors.common import attempt, record_failure
from clash.market.actors.hl_profiles import profile
from clash.market.actors.stream import StreamPump, StreamSlot
from clash.market.candles import DAY_MS, HOUR_MS, MINUTE_MS
from clash.market.config import HyperliquidSettings
from clash.market.errors import DecodeError
from clash.market.hyperliquid import wire
from clash.market.hyperliquid.rest import MAX_FUNDING_ROWS, HyperliquidRest
from clash.market.hyperliquid.ws import HyperliquidStream
from clash.market.messages import (
    HlBackfill,
    HlBoot,
    HlFlushMids,
    HlPollContexts,
    HlPollFundingHistory,
    HlPollPredicted,
    HlRefreshRegistry,
    HlStreamCandles,
    HlStreamMids,
    HlStreamReconnected,
    HlSweepCandles,
    MarketPollResult,
)
from clash.market.registry import AssetInfo, RegistryVersion
from clash.market.taxonomy import Taxonomy
from clash.store import Database

StreamFactory = Callable[[list[str]], HyperliquidStream]
PREDICTED_VENUE = "HlPerp"


class HyperliquidSource(Actor):
    def __init__(
        self,
        db: Database,
        settings: HyperliquidSettings,
        rest: HyperliquidRest,
        *,
        stream_factory: StreamFactory | None = None,
        slot: StreamSlot | None = None,
        autostart: bool = True,
        taxonomy: Taxonomy | None = None,
        progress: Progress | None = None,
        version: RegistryVersion | None = None,
    ) -> None:
        self.db = db
        self.version = version or RegistryVersion()
        self.settings = settings
        self.rest = rest
        self.stream_factory = stream_factory
        self.slot = slot or StreamSlot()
        self.autostart = autostart
        self.taxonomy = taxonomy
        self.progress = progress

    async def on_start(self) -> None:
        s = self.settings
        self._set_assets(await memory.assets(self.db))
        self.feed = CandleFeed(
            self.db,
            self.rest,
            self.clock.now_ms,
            gap_fill_max_minutes=s.gap_fill_max_minutes,
            progress=self.progress,
        )
        await self.feed.load(self._coins())
        self.mids: dict[str, float] = {}
        self.mids_ms: int | None = None
        self.flushed_ms: int | None = None
        self.stream_ms: int | None = None
        self.stream_events = 0
        self.malformed_seen = self._malformed()
        self.predicted: dict[str, tuple[float, int, int]] = {}
        self.profiled_ms: int | None = None
        if not self.autostart:
            return
        self.after(0, HlBoot())
        self.every(s.registry_interval_s, HlRefreshRegistry())
        self.every(s.contexts_interval_s, HlPollContexts())
        self.every(s.predicted_interval_s, HlPollPredicted())
        self.every(s.funding_history_interval_s, HlPollFundingHistory())
        self.every(s.mids_flush_interval_s, HlFlushMids())
        minute = self.clock.now() // 60 * 60
        self.every(
            s.candle_sweep_interval_s, HlSweepCandles(), first=minute + 60 + s.candle_sweep_delay_s
        )

    async def on_stop(self) -> None:
        self.slot.stop()
        await self.rest.aclose()

    # ------------------------------------------------------------ dispatch

    async def receive(self, msg: Any) -> Any:
        match msg:
            case HlStreamCandles(bars=bars):
                for bar in bars:
                    await self.feed.on_bar(bar)
                self._heard(self.clock.now_ms())
            case HlStreamMids(mids=mids, received_ms=at):
                self._take_mids(mids, at)
                self._heard(at)
            case HlStreamReconnected():
                return await self._sweep()
            case HlSweepCandles():
                return await self._sweep()
            case HlFlushMids():
                return await self._flush_mids()
            case HlPollContexts():
                return await self._poll_contexts()
            case HlPollPredicted():
                return await self._poll_predicted()
            case HlPollFundingHistory():
                return await self._poll_funding_history()
            case HlRefreshRegistry():
                return await self._refresh_registry()
            case HlBoot():
                return await self._boot()
            case HlBackfill(start_ms=start, symbols=symbols):
                return await self._backfill(start, symbols)
            case _:
                raise Unhandled(msg)
        return None

    async def _boot(self) -> list[MarketPollResult]:
        results = [await self._refresh_registry()]
        self._start_stream()
        results += [
            await self._sweep(),  # first, so the first profiles see the recent candles
            await self._poll_predicted(),
            await self._poll_contexts(),
            await self._poll_funding_history(),
            await self._flush_mids(),
        ]
        return results

    # ------------------------------------------------------------ registry

    def _set_assets(self, listed: list[AssetInfo]) -> None:
        self.assets: dict[str, AssetInfo] = {a.symbol: a for a in listed}
        self.symbol_of_coin = {a.coin: a.symbol for a in listed}

    def _enabled(self, channel: str | None = None) -> list[AssetInfo]:
        return [
            a
            for a in self.assets.values()
            if a.enabled and (channel is None or a.supports(channel))
        ]

    def _coins(self) -> dict[str, str]:
        """symbol → wire coin of the enabled assets; before any registry, the configured perps."""
        if self.assets:
            return {a.symbol: a.coin for a in self._enabled("candles_1m")}
        return {s: s for s in self.settings.assets if "/" not in s}

    async def _refresh_registry(self) -> MarketPollResult:
        async def work() -> int:
            meta = await self.rest.meta()
            spot = await self.rest.spot_meta_and_asset_ctxs()
            now = self.clock.now_ms()
            listed = registry.build_registry(meta, spot[0], self.settings.assets, self.taxonomy)
            coin_map = {a.coin: a.symbol for a in listed if a.is_spot}
            stats = registry.spot_stats(spot, coin_map, now)
            async with self.db.transaction() as tx:
                await memory.upsert_assets(tx, listed, now)
                await memory.update_asset_stats(tx, stats)
                await memory.record_success(
                    tx, SOURCE, "registry", now, rows=len(listed), data_ms=now
                )
            self.version.bump()
            self._set_assets(listed)
            await self.feed.load(self._coins())
            return len(listed)

        return await attempt(self.db, self.clock.now_ms(), SOURCE, "registry", work)

    # ------------------------------------------------------------ candles

    def _start_stream(self) -> None:
        if self.slot.pump is not None or self.stream_factory is None or not self.settings.websocket:
            return
        coins = list(self._coins().values())
        if coins:
            self.slot.pump = StreamPump(self.stream_factory(coins), self.ref)
            self.slot.pump.start(self.system)

    async def _sweep(self) -> MarketPollResult:
        result = await self.feed.sweep(boot_minutes=self.settings.boot_backfill_minutes)
        error = f"{result.failed} symbols failed" if result.failed else None
        return MarketPollResult(SOURCE, "candles_1m", rows=result.closed, error=error)

    async def _backfill(self, start_ms: int, symbols: list[str]) -> MarketPollResult:
        wanted = symbols or list(self.feed.tracks)
        unknown = [s for s in wanted if s not in self.assets and s not in self.feed.tracks]
        if unknown:
            return MarketPollResult(SOURCE, "candles_1m", error=f"unknown symbols {unknown}")
        await self.feed.load({s: self.assets[s].coin if s in self.assets else s for s in wanted})
        rows = 0
        for symbol in wanted:
            result = await attempt(
                self.db,
                self.clock.now_ms(),
                SOURCE,
                "candles_1m",
                partial(self.feed.backfill, symbol, start_ms),
            )
            if result.error:
                return result
            rows += result.rows
        return MarketPollResult(SOURCE, "candles_1m", rows=rows)

    # ------------------------------------------------------------ mids and the stream

    def _heard(self, at_ms: int) -> None:
        self.stream_ms = at_ms
        self.stream_events += 1

    def _take_mids(self, mids: dict[str, float], at_ms: int) -> None:
        known = self.symbol_of_coin
        self.mids = {known[c]: px for c, px in mids.items() if c in known}
        self.mids_ms = at_ms

    def _malformed(self) -> int:
        pump = self.slot.pump
        return pump.stats.malformed if pump is not None else 0

    async def _flush_mids(self) -> MarketPollResult:
        now = self.clock.now_ms()
        await self._stream_health(now)
        if self.mids_ms is None or now - self.mids_ms > self.settings.mids_stale_s * 1000:

            async def poll() -> int:
                self._take_mids(wire.to_mids(await self.rest.all_mids()), self.clock.now_ms())
                return len(self.mids)

            result = await attempt(self.db, now, SOURCE, "mids", poll)
            if result.error:
                return result
        if self.mids_ms is None or self.mids_ms == self.flushed_ms:
            return MarketPollResult(SOURCE, "mids")
        at = self.mids_ms
        fresh = {a.symbol: at for a in self._enabled("mids") if a.symbol in self.mids}
        async with self.db.transaction() as tx:
            rows = await memory.upsert_mids(tx, self.mids, at)
            await memory.record_success(
                tx, SOURCE, "mids", now, rows=rows, data_ms=at, symbols=fresh
            )
        self.flushed_ms = at
        return MarketPollResult(SOURCE, "mids", rows=rows)

    async def _stream_health(self, now: int) -> None:
        malformed = self._malformed()
        if malformed > self.malformed_seen:
            await record_failure(
                self.db,
                now,
                SOURCE,
                "stream",
                DecodeError("malformed WebSocket frames skipped"),
                count=malformed - self.malformed_seen,
            )
            self.malformed_seen = malformed
        if self.stream_events:
            async with self.db.transaction() as tx:
                await memory.record_success(
                    tx, SOURCE, "stream", now, rows=self.stream_events, data_ms=self.stream_ms
                )
            self.stream_events = 0

    # ------------------------------------------------------------ funding and profiles

    async def _poll_predicted(self) -> MarketPollResult:
        async def work() -> int:
            rates = wire.to_predicted_rates(await self.rest.predicted_fundings())
            now = self.clock.now_ms()
            perps = {a.symbol for a in self._enabled("funding")}
            self.predicted = {
                r.coin: (r.rate, r.next_funding_ms, now)
                for r in rates
                if r.venue == PREDICTED_VENUE and r.coin in perps
            }
            async with self.db.transaction() as tx:
                await memory.record_success(
                    tx, SOURCE, "predicted_funding", now, rows=len(self.predicted), data_ms=now
                )
            return len(self.predicted)

        return await attempt(self.db, self.clock.now_ms(), SOURCE, "predicted_funding", work)

    async def _poll_contexts(self) -> MarketPollResult:
        async def work() -> int:
            ctxs = wire.to_asset_ctxs(await self.rest.meta_and_asset_ctxs())
            now = self.clock.now_ms()
            perps = {a.symbol for a in self._enabled("funding")}
            rows = [self._funding_row(c, now) for c in ctxs if c.coin in perps]
            due = (
                self.profiled_ms is None
                or now - self.profiled_ms >= self.settings.profile_interval_s * 1000
            )
            profiles = [await self._profile(c, now) for c in ctxs if c.coin in perps] if due else []
            async with self.db.transaction() as tx:
                await memory.update_asset_stats(tx, registry.perp_stats(ctxs, now))
                await memory.insert_funding(tx, rows, self.clock.now_ms())
                await memory.record_success(
                    tx,
                    SOURCE,
                    "funding",
                    now,
                    rows=len(rows),
                    data_ms=now,
                    symbols={r.symbol: now for r in rows},
                )
                if due:
                    await memory.insert_profiles(tx, profiles, self.clock.now_ms())
                    await memory.record_success(
                        tx,
                        SOURCE,
                        "profiles",
                        now,
                        rows=len(profiles),
                        data_ms=now,
                        symbols={p.symbol: now for p in profiles},
                    )
            self.version.bump()
            if due:
                self.profiled_ms = now
            return len(rows)

        return await attempt(self.db, self.clock.now_ms(), SOURCE, "funding", work)

    def _funding_row(self, c: wire.AssetCtx, now: int) -> memory.FundingRow:
        pred = self.predicted.get(c.coin)
        return memory.FundingRow(
            symbol=c.coin,
            t_ms=now,
            rate=c.funding,
            premium=c.premium,
            oracle_px=c.oracle_px,
            mark_px=c.mark_px,
            open_interest=c.open_interest,
            predicted_rate=pred[0] if pred else None,
            predicted_next_ms=pred[1] if pred else None,
            predicted_ms=pred[2] if pred else None,
        )

    async def _profile(self, c: wire.AssetCtx, now: int) -> memory.AssetProfile:
        async with self.db.read() as r:
            minutes = await memory.candles_between(r, c.coin, now - DAY_MS, now - MINUTE_MS + 1)
            oi_1h = await memory.open_interest_at(r, c.coin, now - HOUR_MS)
            oi_24h = await memory.open_interest_at(r, c.coin, now - DAY_MS)
        pred = self.predicted.get(c.coin)
        return profile(c, now, minutes, oi_1h, oi_24h, pred[0] if pred else None)

    async def _poll_funding_history(self) -> MarketPollResult:
        async def work() -> int:
            now = self.clock.now_ms()
            settled: list[memory.SettledFunding] = []
            for a in self._enabled("funding"):
                last = await memory.last_settlement_ms(self.db, a.symbol)
                start = (
                    last + 1
                    if last is not None
                    else now - self.settings.funding_history_lookback_h * HOUR_MS
                )
                while True:
                    page = await self.rest.funding_history(a.coin, start)
                    settled += [
                        memory.SettledFunding(a.symbol, r.time_ms, r.rate, r.premium)
                        for r in wire.to_funding_rates(page)
                    ]
                    if len(page) < MAX_FUNDING_ROWS:
                        break
                    start = page[-1].time + 1
            newest: dict[str, int] = {}
            for f in settled:
                newest[f.symbol] = max(newest.get(f.symbol, 0), f.time_ms)
            async with self.db.transaction() as tx:
                rows = await memory.upsert_funding_history(tx, settled, self.clock.now_ms())
                await memory.record_success(
                    tx,
                    SOURCE,
                    "funding_history",
                    now,
                    rows=rows,
                    data_ms=max(newest.values(), default=None),
                    symbols=newest,
                )
            return rows

        return await attempt(self.db, self.clock.now_ms(), SOURCE, "funding_history", work)


__all__ = ["HyperliquidSource", "StreamFactory"]
