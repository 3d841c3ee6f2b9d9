"""OHLCV candle rows shared by the market modules."""

from __future__ import annotations

import msgspec

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000


class Candle(msgspec.Struct, frozen=True):
    """One OHLCV bar. `t_ms` is the open time (epoch ms, UTC); `v` is base volume, `n` trades."""

    t_ms: int
    o: float
    h: float
    l: float  # noqa: E741
    c: float
    v: float
    n: int
