"""Compact Hyperliquid profiles, pure: liquidity, volatility and positioning of one perp."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

from clash.market.candles import HOUR_MS, Candle
from clash.market.hyperliquid.wire import AssetCtx
from clash.market.memory import (
    AssetProfile,
    LiquidityProfile,
    PositioningProfile,
    Pressure,
    VolatilityProfile,
)

MINUTES_PER_YEAR = 525_600
HOURS_PER_YEAR = 8_760
BASELINE_HOURLY_RATE = 0.0000125
"""Hyperliquid's interest component (0.01% per 8 h): funding near it is neither side's pressure."""


def _pct(new: float | None, old: float | None) -> float | None:
    if new is None or old is None or old == 0:
        return None
    return (new / old - 1) * 100


def liquidity(ctx: AssetCtx) -> LiquidityProfile:
    mid = ctx.mid_px or ctx.mark_px
    spread = None
    if ctx.impact_bid is not None and ctx.impact_ask is not None and mid > 0:
        spread = (ctx.impact_ask - ctx.impact_bid) / mid * 10_000
    return LiquidityProfile(
        day_ntl_vlm=ctx.day_ntl_vlm,
        open_interest=ctx.open_interest,
        oi_ntl=ctx.open_interest * ctx.mark_px,
        impact_bid=ctx.impact_bid,
        impact_ask=ctx.impact_ask,
        impact_spread_bps=spread,
    )


def realised_vol(closes: Sequence[float]) -> float | None:
    """Annualised standard deviation of 1-minute log returns (sample std), None under 2 returns."""
    rets = [math.log(b / a) for a, b in pairwise(closes) if a > 0 and b > 0]
    if len(rets) < 2:
        return None
    mean = sum(rets) / len(rets)
    var = sum((r - mean) ** 2 for r in rets) / (len(rets) - 1)
    return math.sqrt(var * MINUTES_PER_YEAR)


def range_pct(candles: Sequence[Candle]) -> float | None:
    if not candles or candles[-1].c <= 0:
        return None
    return (max(c.h for c in candles) - min(c.l for c in candles)) / candles[-1].c * 100


def volatility(minutes: Sequence[Candle], now_ms: int, ctx: AssetCtx) -> VolatilityProfile:
    """From the last 24 h of closed 1-minute candles (oldest first) and the 24 h change of the ctx."""
    last_hour = [c for c in minutes if c.t_ms >= now_ms - HOUR_MS]
    return VolatilityProfile(
        rv_1h=realised_vol([c.c for c in last_hour]),
        rv_24h=realised_vol([c.c for c in minutes]),
        range_1h_pct=range_pct(last_hour),
        range_24h_pct=range_pct(minutes),
        change_24h_pct=_pct(ctx.mark_px, ctx.prev_day_px),
    )


def pressure(rate: float) -> Pressure:
    if rate > 2 * BASELINE_HOURLY_RATE:
        return "longs_pay"
    if rate < 0:
        return "shorts_pay"
    return "neutral"


def positioning(
    ctx: AssetCtx, oi_1h_ago: float | None, oi_24h_ago: float | None, predicted_rate: float | None
) -> PositioningProfile:
    return PositioningProfile(
        oi_change_1h_pct=_pct(ctx.open_interest, oi_1h_ago),
        oi_change_24h_pct=_pct(ctx.open_interest, oi_24h_ago),
        funding_rate=ctx.funding,
        funding_apr=ctx.funding * HOURS_PER_YEAR,
        premium=ctx.premium,
        predicted_rate=predicted_rate,
        pressure=pressure(ctx.funding),
    )


def profile(
    ctx: AssetCtx,
    now_ms: int,
    minutes: Sequence[Candle],
    oi_1h_ago: float | None,
    oi_24h_ago: float | None,
    predicted_rate: float | None,
) -> AssetProfile:
    return AssetProfile(
        ctx.coin,
        now_ms,
        liquidity(ctx),
        volatility(minutes, now_ms, ctx),
        positioning(ctx, oi_1h_ago, oi_24h_ago, predicted_rate),
    )
