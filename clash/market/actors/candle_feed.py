"""1-minute candles in, closed candles with their indicators out: the candle half of Hyperliquid.

A candle closes when a later minute's candle arrives, when it arrives after its own minute is
over, or when a REST sweep finds it over. Closing folds its close into the symbol's
`IndicatorState` and commits candle, indicators, running state, hour rollup and health in one
transaction, so a restart resumes exactly where the last commit left off. Before a close that
would skip minutes, or as soon as a pushed candle shows that skipped minutes are over (a stream
reconnect, a slow sweep), the missing ones are fetched with candleSnapshot. A candle at or before the last closed one is a duplicate: an idempotent upsert that leaves
the indicators as they were computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import msgspec

from clash.market import memory
from clash.market.actors.common import record_failure
from clash.market.candles import HOUR_MS, MINUTE_MS, Candle
from clash.market.errors import DecodeError, SourceError
from clash.market.hyperliquid import wire
from clash.market.hyperliquid.rest import MAX_CANDLES, HyperliquidRest, request_weight
from clash.market.hyperliquid.wire import HlCandle
from clash.market.indicators import IndicatorPoint, IndicatorState
from clash.store import Database

SOURCE = "hyperliquid"
CANDLE_CHANNELS = ("candles_1m", "candles_1h", "indicators")
COMMIT_ROWS = 1000

Progress = Callable[[str, int, int], None]
"""(symbol, candles done, candles expected)."""


class Track(msgspec.Struct):
    """One symbol's position in the feed."""

    symbol: str
    coin: str
    state: IndicatorState
    last_t: int | None = None
    partial: HlCandle | None = None


def to_candle(b: HlCandle) -> Candle:
    return Candle(b.open_ms, b.open, b.high, b.low, b.close, b.volume, b.trades)


def _finite(b: HlCandle) -> bool:
    return all(math.isfinite(x) for x in (b.open, b.high, b.low, b.close, b.volume))


class SweepResult(msgspec.Struct):
    closed: int = 0
    deferred: int = 0
    failed: int = 0


class CandleFeed:
    def __init__(
        self,
        db: Database,
        rest: HyperliquidRest,
        now_ms: Callable[[], int],
        *,
        gap_fill_max_minutes: int = 1440,
        progress: Progress | None = None,
    ) -> None:
        self.db = db
        self.rest = rest
        self.now_ms = now_ms
        self.gap_fill_max_minutes = gap_fill_max_minutes
        self.progress = progress
        self.tracks: dict[str, Track] = {}
        self._by_coin: dict[str, str] = {}
        self.duplicates = 0

    async def load(self, coins: dict[str, str]) -> None:
        """Track `coins` (symbol → wire coin), resuming each from its persisted state."""
        saved = await memory.load_indicator_states(self.db)
        for symbol, coin in coins.items():
            if symbol in self.tracks:
                self.tracks[symbol].coin = coin
            else:
                last_t, state = saved.get(symbol, (None, IndicatorState()))
                self.tracks[symbol] = Track(symbol, coin, state, last_t)
            self._by_coin[coin] = symbol

    # ------------------------------------------------------------ stream

    async def on_bar(self, bar: HlCandle) -> int:
        """Handle one pushed candle; returns how many candles it closed."""
        symbol = self._by_coin.get(bar.coin)
        if symbol is None or bar.interval != "1m":
            return 0
        if not _finite(bar):
            await self._failed(DecodeError(f"{bar.coin} candle at {bar.open_ms} is not finite"))
            return 0
        track = self.tracks[symbol]
        if track.last_t is not None and bar.open_ms <= track.last_t:
            await self._duplicate(track, bar)
            return 0
        now = self.now_ms()
        due: list[HlCandle] = []
        if track.partial is not None and track.partial.open_ms < bar.open_ms:
            due.append(track.partial)
            track.partial = None
        if bar.open_ms + MINUTE_MS <= now:
            due.append(bar)
            track.partial = None
        else:
            track.partial = bar
        if due:
            return await self._close_through(track, due, now)
        if track.last_t is not None and bar.open_ms > track.last_t + MINUTE_MS:
            return await self._close_through(
                track, [], now, before_ms=bar.open_ms
            )  # minutes skipped
        return 0

    async def _duplicate(self, track: Track, bar: HlCandle) -> None:
        self.duplicates += 1
        async with self.db.transaction() as tx:
            await memory.upsert_candle(tx, track.symbol, to_candle(bar), self.now_ms())

    # ------------------------------------------------------------ REST

    async def fetch(self, coin: str, start_ms: int, end_ms: int) -> list[HlCandle]:
        """Every 1-minute candle from start_ms to end_ms, paging past the 5000-per-answer cap."""
        out: list[HlCandle] = []
        while start_ms <= end_ms:
            page = wire.to_bars(await self.rest.candle_snapshot(coin, "1m", start_ms, end_ms))
            page = [b for b in page if b.open_ms >= start_ms]
            out += page
            if len(page) < MAX_CANDLES:
                break
            start_ms = page[-1].open_ms + MINUTE_MS
        return out

    def affordable(self) -> bool:
        """Whether the shared weight budget takes a candleSnapshot now (else defer it)."""
        return self.rest.budget.wait_time(request_weight("candleSnapshot")) == 0

    async def sweep(
        self, symbols: Sequence[str] | None = None, *, boot_minutes: int = 120
    ) -> SweepResult:
        """Close, over REST, every minute that is over and not closed yet. A symbol never seen
        starts `boot_minutes` back; one seen before is filled from its last candle (at most
        `gap_fill_max_minutes` back)."""
        result = SweepResult()
        now = self.now_ms()
        last_over = now // MINUTE_MS * MINUTE_MS - MINUTE_MS
        for symbol in symbols if symbols is not None else list(self.tracks):
            track = self.tracks.get(symbol)
            if track is None or (track.last_t is not None and track.last_t >= last_over):
                continue
            if not self.affordable():
                result.deferred += 1
                continue
            if track.last_t is None:
                start = last_over - (boot_minutes - 1) * MINUTE_MS
            else:
                start = max(
                    track.last_t + MINUTE_MS,
                    last_over - (self.gap_fill_max_minutes - 1) * MINUTE_MS,
                )
            try:
                bars = await self.fetch(track.coin, start, now)
            except SourceError as exc:
                result.failed += 1
                await self._failed(exc)
                continue
            result.closed += await self._absorb(track, bars, now)
        return result

    async def _absorb(self, track: Track, bars: list[HlCandle], now: int) -> int:
        """Close the fetched candles that are over; keep a newer unfinished one as the partial."""
        done = [
            b
            for b in bars
            if b.open_ms + MINUTE_MS <= now and (track.last_t is None or b.open_ms > track.last_t)
        ]
        if not all(_finite(b) for b in done):
            await self._failed(DecodeError(f"{track.coin}: candles that are not finite skipped"))
            done = [b for b in done if _finite(b)]
        live = [b for b in bars if b.open_ms + MINUTE_MS > now]
        if live and (track.partial is None or live[-1].open_ms >= track.partial.open_ms):
            track.partial = live[-1]
        if track.partial is not None and done and track.partial.open_ms <= done[-1].open_ms:
            track.partial = None
        return await self._commit(track, done, now)

    async def backfill(self, symbol: str, start_ms: int) -> int:
        """Refetch from `start_ms` and rebuild the indicators from there (the CLI's backfill).

        Hyperliquid serves only the latest 5000 one-minute candles; hours before those come from
        its 1-hour candles, stored as source hours (a later rollup of the same hour wins)."""
        track = self.tracks[symbol]
        now = self.now_ms()
        start = start_ms // MINUTE_MS * MINUTE_MS
        async with self.db.transaction() as tx:
            await memory.reset_indicator_state(tx, symbol, start, now)
        track.state, track.last_t, track.partial = IndicatorState(), None, None
        bars = await self.fetch(track.coin, start, now)
        first_minute = bars[0].open_ms if bars else now
        hours = 0
        if first_minute - start >= HOUR_MS:
            snapshot = await self.rest.candle_snapshot(track.coin, "1h", start, first_minute - 1)
            done = [
                to_candle(b)
                for b in wire.to_bars(snapshot)
                if b.open_ms + HOUR_MS <= first_minute and _finite(b)
            ]
            async with self.db.transaction() as tx:
                hours = await memory.upsert_source_hours(tx, symbol, done, self.now_ms())
        return hours + await self._absorb(track, bars, now)

    async def _close_through(
        self, track: Track, bars: list[HlCandle], now: int, *, before_ms: int | None = None
    ) -> int:
        """Close `bars` (ascending, all after last_t), first fetching the minutes skipped before
        them (or before `before_ms`: a later minute has begun, so those are over)."""
        first = bars[0].open_ms if bars else before_ms
        if first is not None and track.last_t is not None and first > track.last_t + MINUTE_MS:
            start = max(track.last_t + MINUTE_MS, first - self.gap_fill_max_minutes * MINUTE_MS)
            if self.affordable():
                try:
                    missing = await self.fetch(track.coin, start, first - 1)
                    bars = [
                        b
                        for b in missing
                        if b.open_ms < first and b.open_ms + MINUTE_MS <= now and _finite(b)
                    ] + bars
                except SourceError as exc:
                    await self._failed(exc)
        return await self._commit(track, bars, now)

    # ------------------------------------------------------------ commit

    async def _commit(self, track: Track, bars: list[HlCandle], now: int) -> int:
        done = 0
        for i in range(0, len(bars), COMMIT_ROWS):
            state = msgspec.structs.replace(track.state, window=list(track.state.window))
            closed: list[tuple[Candle, IndicatorPoint]] = []
            last_t = track.last_t
            for b in bars[i : i + COMMIT_ROWS]:
                if last_t is not None and b.open_ms <= last_t:
                    continue
                closed.append((to_candle(b), state.update(b.close)))
                last_t = b.open_ms
            if not closed:
                continue
            data_ms = closed[-1][0].t_ms + MINUTE_MS
            async with self.db.transaction() as tx:
                await memory.write_closed(tx, track.symbol, closed, state, self.now_ms())
                for channel in CANDLE_CHANNELS:
                    await memory.record_success(
                        tx,
                        SOURCE,
                        channel,
                        now,
                        rows=len(closed),
                        data_ms=data_ms,
                        symbols={track.symbol: data_ms},
                    )
            track.state, track.last_t = state, last_t
            done += len(closed)
            if self.progress is not None:
                self.progress(track.symbol, min(i + COMMIT_ROWS, len(bars)), len(bars))
        return done

    async def _failed(self, exc: SourceError) -> None:
        """Count a failed fetch or a skipped payload on the candles channel."""
        await record_failure(self.db, self.now_ms(), SOURCE, "candles_1m", exc)


__all__ = ["CandleFeed", "SweepResult", "Track", "to_candle"]
