"""SimMarket: deterministic, internally consistent, shaped like Hyperliquid."""

import json
import math
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from clash.market.sim.market import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    SimMarket,
    bucket_start,
    fmt_decimal,
    round_px,
)

T0 = 1_790_431_200_000  # 2026-09-27 14:00 UTC


def _answers(m: SimMarket, coin: str, t: int) -> list[object]:
    out: list[object] = [m.mid(coin, t), m.candles(coin, "15m", t - 3 * HOUR_MS, t)]
    if coin in {p.name for p in m.perps}:
        out += [m.asset_ctx(coin, t), m.funding_history(coin, t - DAY_MS, t)]
    return out


def test_same_seed_same_market_whatever_the_query_order() -> None:
    queries = [
        ("BTC", T0 + 9 * DAY_MS + 5),
        ("@107", T0 + 3 * DAY_MS + 77_777),
        ("kPEPE", T0 + 4 * HOUR_MS),
        ("ETH", T0 + 6 * DAY_MS + 59_999),
    ]
    one = SimMarket(42, T0)
    forward = [_answers(one, *q) for q in queries]
    tiny_cache = SimMarket(42, T0, cache_chunks=1)
    backward = [_answers(tiny_cache, *q) for q in reversed(queries)][::-1]
    fresh_each = [_answers(SimMarket(42, T0), *q) for q in queries]
    assert forward == backward == fresh_each
    assert [_answers(SimMarket(43, T0), *q) for q in queries] != forward


def test_universe_matches_recorded_meta(fixtures_dir: Path) -> None:
    hl = fixtures_dir / "real" / "hyperliquid"
    m = SimMarket(1, T0)
    assert len(m.perps) >= 20
    modern = json.loads((hl / "metaAndAssetCtxs_trimmed_2026-09-27.json").read_text())[0]
    by_name = {p.name: p for p in m.perps}
    for asset in modern["universe"]:
        p = by_name[asset["name"]]
        assert (p.sz_decimals, p.max_leverage, p.margin_table_id) == (
            asset["szDecimals"],
            asset["maxLeverage"],
            asset["marginTableId"],
        )
    old = json.loads((hl / "meta_2023-07-17.json").read_text())["universe"]
    for asset in old:
        if asset["name"] in by_name:
            assert by_name[asset["name"]].sz_decimals == asset["szDecimals"]
    spot = json.loads((hl / "spotMeta_trimmed_2026-09-27.json").read_text())
    assert {p["name"] for p in spot["universe"]} <= {s.name for s in m.spots}
    tokens = {t.index: t for t in m.tokens}
    for t in spot["tokens"]:
        assert (
            tokens[t["index"]].name,
            tokens[t["index"]].sz_decimals,
            tokens[t["index"]].token_id,
        ) == (t["name"], t["szDecimals"], t["tokenId"])
    assert "PURR/USDC" in m.coins()


def test_prices_follow_hyperliquid_tick_rules() -> None:
    m = SimMarket(3, T0)
    t = T0 + 2 * DAY_MS + 31_000
    for coin, px in m.mids(t).items():
        szd = m.sz_decimals(coin)
        max_decimals = (8 if coin in {s.name for s in m.spots} else 6) - szd
        d = Decimal(fmt_decimal(px)).normalize()
        decimals = max(0, -d.as_tuple().exponent)
        assert decimals <= max_decimals, coin
        if d != d.to_integral_value():
            assert len(d.as_tuple().digits) <= 5, (coin, px)
    assert round_px(84981.23, 5) == 84981.0
    assert round_px(123456.7, 0) == 123457.0
    assert round_px(0.0015654, 0) == 0.001565  # at most 6 - szDecimals decimals (kPEPE)
    assert round_px(0.0015654, 0, spot=True) == 0.0015654
    assert round_px(0.00156549, 0, spot=True) == 0.0015655
    assert fmt_decimal(0.0000125) == "0.0000125" and fmt_decimal(84981.0) == "84981.0"


def test_candles_aggregate_consistently() -> None:
    m = SimMarket(8, T0)
    end = T0 + DAY_MS + 5 * HOUR_MS + 17_500
    hours = m.candles("SOL", "1h", end - 6 * HOUR_MS, end)
    minutes = m.candles("SOL", "1m", hours[0].open_ms, end)
    assert len(hours) == 7 and hours[-1].open_ms <= end <= hours[-1].close_ms
    for h in hours:
        inside = [b for b in minutes if h.open_ms <= b.open_ms <= h.close_ms]
        assert h.open == inside[0].open and h.close == inside[-1].close
        assert h.high == max(b.high for b in inside) and h.low == min(b.low for b in inside)
        lot = 10.0 ** -m.sz_decimals("SOL")  # each bar's volume is rounded to whole lots
        assert h.volume == pytest.approx(sum(b.volume for b in inside), abs=lot * len(inside))
        assert h.trades == sum(b.trades for b in inside)
    for b in minutes + hours:
        assert b.high >= max(b.open, b.close) >= min(b.open, b.close) >= b.low > 0
        assert b.close_ms == b.open_ms + (HOUR_MS if b.interval == "1h" else MINUTE_MS) - 1
    assert all(a.close == b.open for a, b in pairwise(minutes))


def test_an_open_candle_only_grows_towards_the_closed_one() -> None:
    m = SimMarket(8, T0)
    minute = T0 + 3 * HOUR_MS
    final = m.candles("BTC", "1m", minute, minute + MINUTE_MS - 1)[-1]
    for ms in range(0, MINUTE_MS, 4_000):
        part = m.candles("BTC", "1m", minute, minute + ms)[-1]
        assert part.open == final.open and part.open_ms == final.open_ms
        assert final.low <= part.low <= part.high <= final.high
        assert part.volume <= final.volume and part.trades <= final.trades
        assert part.close == m.mid("BTC", minute + ms)


def test_calendar_intervals() -> None:
    assert bucket_start("1w", T0) % (7 * DAY_MS) == 4 * DAY_MS  # Mondays
    assert bucket_start("1M", T0) == 1788220800000  # 2026-09-01
    m = SimMarket(2, T0)
    months = m.candles("ETH", "1M", T0, T0 + 10 * DAY_MS)
    assert [b.open_ms for b in months] == [1788220800000, 1790812800000]
    assert months[0].close_ms == 1790812799999


def test_market_starts_at_start_ms() -> None:
    m = SimMarket(2, T0 + 1)
    assert m.origin_ms == T0 + MINUTE_MS
    assert m.candles("BTC", "1m", T0 - DAY_MS, T0) == []
    with pytest.raises(ValueError):
        m.mid("BTC", T0)
    first = m.candles("BTC", "1h", T0 - DAY_MS, T0 + MINUTE_MS)
    assert len(first) == 1 and first[0].open == 85000.0 and first[0].open_ms == T0


def test_volatility_regimes_and_jumps() -> None:
    m = SimMarket(5, T0)
    end = T0 + 5 * DAY_MS
    ranges, returns = [], []
    for p in m.perps[:10]:
        bars = m.candles(p.name, "1m", T0, end - 1)
        close = np.array([b.close for b in bars])
        r = np.diff(np.log(close))
        returns.append(r / r.std())
        hourly = np.abs(r[: len(r) // 240 * 240]).reshape(-1, 240).mean(axis=1)
        ranges.append(hourly.max() / hourly.min())
    assert np.median(ranges) > 2.5  # calm and wild stretches
    z = np.concatenate(returns)
    assert (np.abs(z) > 8).sum() >= 2  # fat tails from jumps
    btc = SimMarket(5, T0).candles("BTC", "1d", T0, end)
    daily = [abs(math.log(b.close / b.open)) for b in btc]
    assert 0.002 < float(np.median(daily)) < 0.08


def test_assets_move_together() -> None:
    m = SimMarket(6, T0)
    closes = {
        c: np.array([b.close for b in m.candles(c, "1h", T0, T0 + 6 * DAY_MS)])
        for c in ("BTC", "ETH", "SOL")
    }
    r = {c: np.diff(np.log(v)) for c, v in closes.items()}
    assert np.corrcoef(r["BTC"], r["ETH"])[0, 1] > 0.4


def test_perp_context_and_funding() -> None:
    m = SimMarket(9, T0)
    t = T0 + 3 * DAY_MS + 25 * MINUTE_MS
    ctx = m.asset_ctx("ETH", t)
    assert ctx.mid_px == m.mid("ETH", t)
    assert ctx.impact_bid is not None and ctx.impact_ask is not None
    assert ctx.impact_bid <= ctx.mid_px <= ctx.impact_ask
    assert ctx.prev_day_px == m.mid("ETH", t - DAY_MS)
    day = m.candles("ETH", "1m", t - DAY_MS + MINUTE_MS, t)
    assert ctx.day_base_vlm == pytest.approx(sum(b.volume for b in day), rel=0.01)
    assert 1e8 < ctx.day_ntl_vlm < 2e9 and ctx.open_interest > 0
    assert abs(ctx.funding) <= 0.04
    history = m.funding_history("ETH", t - DAY_MS, t)
    assert len(history) == 24
    assert all(0 <= r.time_ms % HOUR_MS < 400 for r in history)
    for r in history:
        expected = (r.premium + min(0.0005, max(-0.0005, 0.0001 - r.premium))) / 8
        assert r.rate == pytest.approx(expected, abs=1e-9)
    assert any(r.rate == 0.0000125 for r in history)
    assert m.funding_history("ETH", t - DAY_MS, t, limit=5) == history[:5]
    predicted = dict(m.predicted_fundings(t))
    assert predicted["HYPE"][0] is None and predicted["HYPE"][2] is None
    hl = predicted["ETH"][1]
    assert hl is not None and hl.venue == "HlPerp" and hl.interval_hours == 1
    assert hl.next_funding_ms == (t // HOUR_MS + 1) * HOUR_MS


def test_spot_pairs_track_their_perps() -> None:
    m = SimMarket(4, T0)
    t = T0 + DAY_MS + 123_456
    assert m.mid("@107", t) == pytest.approx(m.mid("HYPE", t), rel=0.002)
    assert m.mid("@142", t) == pytest.approx(m.mid("BTC", t), rel=0.002)
    ctx = m.spot_ctx("@107", t)
    assert ctx.mid_px == m.mid("@107", t) and ctx.day_ntl_vlm > 0
