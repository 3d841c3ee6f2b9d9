"""1-minute candles to 1-hour candles, and which candle rows are past hot retention (seed 003).

Pure functions over `Candle` rows; the market memory actor owns the tables and calls these.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby, pairwise
from typing import Literal

from clash.market.candles import DAY_MS, HOUR_MS, MINUTE_MS, Candle

Interval = Literal["1m", "1h"]

INTERVAL_MS: dict[Interval, int] = {"1m": MINUTE_MS, "1h": HOUR_MS}
RETENTION_MS: dict[Interval, int] = {"1m": DAY_MS, "1h": 7 * DAY_MS}
"""Hot retention: 1-minute source candles for 24 hours, 1-hour rollups for 7 days."""


class HourCandle(Candle, frozen=True):
    """A 1-hour candle rolled up from `minutes` 1-minute candles.

    `complete` is True when all 60 minutes are present or the hour has ended (at `now_ms`); an
    incomplete hour is still open and will change. A complete hour with `minutes < 60` had gaps.
    """

    minutes: int
    complete: bool


def hour_bucket(t_ms: int) -> int:
    """Index of the UTC hour containing `t_ms`: floor(t / 3,600,000)."""
    return t_ms // HOUR_MS


def rollup_hours(minutes: Iterable[Candle], now_ms: int) -> list[HourCandle]:
    """Roll closed 1-minute candles up into hourly candles, oldest first.

    Open of the first minute, highest high, lowest low, close of the last minute, summed volume and
    trade count. Input order does not matter. Each minute must start on a minute boundary and
    appear once (the feed upserts on open time, so a duplicate here is a bug upstream).
    """
    rows = sorted(minutes, key=lambda c: c.t_ms)
    for prev, cur in pairwise(rows):
        if prev.t_ms == cur.t_ms:
            raise ValueError(f"duplicate 1-minute candle at t_ms={cur.t_ms}")
    for c in rows:
        if c.t_ms % MINUTE_MS:
            raise ValueError(f"t_ms={c.t_ms} is not on a minute boundary")
    return [_hour(bucket, list(group), now_ms) for bucket, group in groupby(rows, _bucket_of)]


def _bucket_of(c: Candle) -> int:
    return hour_bucket(c.t_ms)


def _hour(bucket: int, rows: list[Candle], now_ms: int) -> HourCandle:
    t_ms = bucket * HOUR_MS
    count = len(rows)
    return HourCandle(
        t_ms=t_ms,
        o=rows[0].o,
        h=max(c.h for c in rows),
        l=min(c.l for c in rows),
        c=rows[-1].c,
        v=sum(c.v for c in rows),
        n=sum(c.n for c in rows),
        minutes=count,
        complete=count == HOUR_MS // MINUTE_MS or now_ms >= t_ms + HOUR_MS,
    )


def retention_cutoff(interval: Interval, now_ms: int) -> int:
    """Rows of `interval` with `t_ms` below this are past retention at `now_ms`.

    A row goes once its whole bar has ended at or before now - retention, so the kept rows always
    cover the full retention window:
    t_ms + interval <= now - keep  <=>  t_ms < now - keep - interval + 1.
    """
    return now_ms - RETENTION_MS[interval] - INTERVAL_MS[interval] + 1


def past_retention(rows: Iterable[Candle], interval: Interval, now_ms: int) -> list[Candle]:
    """The rows of `interval` that are past retention at `now_ms`, in input order."""
    cutoff = retention_cutoff(interval, now_ms)
    return [c for c in rows if c.t_ms < cutoff]
