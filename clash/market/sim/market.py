"""A seeded synthetic market shaped like Hyperliquid's perps and spot pairs.

Everything is a pure function of (seed, time). The 1-minute path of each price series is
generated lazily in day-long chunks: chunk `c` draws from its own generator keyed by
(seed, series, c) and continues from chunk `c-1`'s end state, so the same seed yields the
same market whatever order it is asked in. Each minute stores o/h/l/c plus the times of its
high and low, so the state at any millisecond inside a minute is a piecewise-linear path
(open → high/low → close) and a half-formed candle never exceeds the finished one.

The market exists from `start_ms` (rounded up to a whole minute) on; to have history,
start it earlier than the first "now".
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import zlib
from collections import OrderedDict
from decimal import Decimal
from itertools import pairwise

import msgspec
import numpy as np

from clash.market.hyperliquid.wire import AssetCtx, FundingRate, HlCandle

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
CHUNK_MINUTES = 1440
_MINUTES_PER_YEAR = 525_600
_MARKET_KEY = 0x4D4B54
_WEEK_OFFSET_MS = 4 * DAY_MS  # 1970-01-01 was a Thursday; weeks start on Monday.
INTERVAL_MINUTES = {
    "1m": 1,
    "3m": 3,
    "5m": 5,
    "15m": 15,
    "30m": 30,
    "1h": 60,
    "2h": 120,
    "4h": 240,
    "8h": 480,
    "12h": 720,
    "1d": 1440,
    "3d": 4320,
    "1w": 10080,
}
INTERVALS = (*INTERVAL_MINUTES, "1M")
_REGIMES = np.array([0.55, 1.0, 2.3])
_REGIME_P = np.array([0.35, 0.5, 0.15])
_INTEREST_8H = 0.0001


class SeriesSpec(msgspec.Struct, frozen=True):
    """One simulated price path: start price, annual volatility, correlation to the market."""

    name: str
    px: float
    vol: float
    rho: float
    day_ntl: float


class PerpSpec(msgspec.Struct, frozen=True):
    name: str
    sz_decimals: int
    max_leverage: int
    margin_table_id: int
    oi_ntl: float
    on_cex: bool = True


class TokenSpec(msgspec.Struct, frozen=True):
    name: str
    index: int
    sz_decimals: int
    wei_decimals: int
    token_id: str
    is_canonical: bool
    full_name: str | None
    evm_address: str | None
    evm_extra_wei_decimals: int
    supply: float
    deployer_fee_share: str = "0.0"


class SpotSpec(msgspec.Struct, frozen=True):
    """A spot pair; its price follows a series (a perp's, or its own) times (1 + basis)."""

    name: str
    index: int
    base: int
    quote: int
    series: str
    basis: float
    volume_share: float


class MarginTierSpec(msgspec.Struct, frozen=True):
    lower_bound: float
    max_leverage: int


class MarginTableSpec(msgspec.Struct, frozen=True):
    id: int
    description: str
    tiers: tuple[MarginTierSpec, ...]


class SpotCtx(msgspec.Struct, frozen=True):
    coin: str
    prev_day_px: float
    day_ntl_vlm: float
    mark_px: float
    mid_px: float
    circulating_supply: float
    total_supply: float
    day_base_vlm: float


class VenueFunding(msgspec.Struct, frozen=True):
    venue: str
    rate: float
    next_funding_ms: int
    interval_hours: int


# name, px, szDecimals, maxLeverage, marginTableId, annual vol, rho, day ntl, OI ntl, on CEX
_PERPS: tuple[tuple[str, float, int, int, int, float, float, float, float, bool], ...] = (
    ("BTC", 85000.0, 5, 40, 56, 0.55, 0.90, 1.0e9, 3.3e9, True),
    ("ETH", 2700.0, 4, 25, 55, 0.70, 0.80, 4.3e8, 3.0e9, True),
    ("SOL", 123.0, 2, 20, 54, 0.85, 0.70, 2.1e8, 7.0e8, True),
    ("HYPE", 92.4, 2, 10, 52, 1.00, 0.50, 2.4e8, 1.9e9, False),
    ("XRP", 2.2, 0, 20, 53, 0.80, 0.60, 1.2e8, 4.0e8, True),
    ("DOGE", 0.17, 0, 10, 10, 0.90, 0.65, 8.0e7, 2.5e8, True),
    ("AVAX", 22.0, 2, 10, 10, 0.90, 0.65, 3.0e7, 1.0e8, True),
    ("LINK", 14.0, 1, 10, 10, 0.85, 0.65, 2.5e7, 1.0e8, True),
    ("LTC", 90.0, 2, 10, 10, 0.75, 0.60, 1.5e7, 6.0e7, True),
    ("BNB", 600.0, 3, 10, 10, 0.50, 0.60, 2.0e7, 8.0e7, True),
    ("SUI", 3.0, 1, 10, 10, 1.00, 0.60, 6.0e7, 2.0e8, True),
    ("ARB", 0.4, 1, 10, 10, 1.00, 0.65, 1.5e7, 5.0e7, True),
    ("OP", 0.7, 1, 10, 10, 1.00, 0.65, 1.0e7, 4.0e7, True),
    ("APT", 5.0, 2, 10, 10, 0.95, 0.60, 1.0e7, 4.0e7, True),
    ("ATOM", 4.5, 2, 5, 5, 0.85, 0.55, 6.0e6, 2.5e7, True),
    ("INJ", 12.0, 1, 10, 10, 1.05, 0.60, 1.0e7, 3.0e7, True),
    ("TIA", 3.0, 1, 10, 10, 1.10, 0.55, 1.2e7, 4.0e7, True),
    ("NEAR", 2.5, 1, 10, 10, 0.95, 0.60, 1.0e7, 4.0e7, True),
    ("SEI", 0.2, 0, 10, 10, 1.10, 0.55, 8.0e6, 3.0e7, True),
    ("WIF", 0.6, 0, 10, 10, 1.30, 0.50, 2.5e7, 6.0e7, True),
    ("kPEPE", 0.009, 0, 10, 10, 1.20, 0.55, 4.0e7, 1.0e8, False),
    ("CRV", 0.5, 1, 10, 10, 1.00, 0.55, 8.0e6, 3.0e7, True),
    ("LDO", 1.0, 1, 10, 10, 1.00, 0.55, 6.0e6, 2.0e7, True),
    ("BCH", 400.0, 3, 10, 10, 0.75, 0.60, 1.0e7, 5.0e7, True),
    ("AAVE", 250.0, 2, 10, 10, 0.90, 0.60, 3.0e7, 1.0e8, True),
    ("ENA", 0.5, 0, 10, 10, 1.20, 0.55, 4.0e7, 1.2e8, True),
)

_MARGIN_TABLES = (
    MarginTableSpec(5, "", (MarginTierSpec(0.0, 5),)),
    MarginTableSpec(10, "", (MarginTierSpec(0.0, 10),)),
    MarginTableSpec(52, "tiered 10x (2)", (MarginTierSpec(0.0, 10), MarginTierSpec(2e7, 5))),
    MarginTableSpec(53, "tiered 20x", (MarginTierSpec(0.0, 20), MarginTierSpec(4e7, 10))),
    MarginTableSpec(54, "tiered 20x (2)", (MarginTierSpec(0.0, 20), MarginTierSpec(7e7, 10))),
    MarginTableSpec(55, "tiered 25x", (MarginTierSpec(0.0, 25), MarginTierSpec(1e8, 15))),
    MarginTableSpec(56, "tiered 40x", (MarginTierSpec(0.0, 40), MarginTierSpec(1.5e8, 20))),
)

_TOKENS = (
    TokenSpec(
        "USDC",
        0,
        8,
        8,
        "0x6d1e7cde53ba9467b783cb7c530ce054",
        True,
        None,
        "0x6b9e773128f453f5c2c60935ee2de2cbc5390a24",
        -2,
        3.0e9,
    ),
    TokenSpec(
        "PURR",
        1,
        0,
        5,
        "0xc1fb593aeffbeb02f85e0308e9956a90",
        True,
        None,
        "0x9b498c3c8a0b8cd8ba1d9851d40d186f1872b44e",
        13,
        5.96e8,
    ),
    TokenSpec(
        "HYPE",
        150,
        2,
        8,
        "0x0d01dc56dcaaca66ad901c959b4011ec",
        False,
        "Hyperliquid",
        None,
        0,
        3.3e8,
    ),
    TokenSpec(
        "UBTC",
        197,
        5,
        10,
        "0x8f254b963e8468305d409b33aa137c67",
        False,
        "Unit Bitcoin",
        "0x9fdbda0a5e284c32744d2f17ee5c74b284993463",
        -2,
        2.5e3,
        "1.0",
    ),
    TokenSpec(
        "UETH",
        221,
        4,
        9,
        "0xe1edd30daaf5caac3fe63569e24748da",
        False,
        "Unit Ethereum",
        "0xbe6727b535545c67d5caa73dea54865b92cf7907",
        9,
        4.0e4,
        "1.0",
    ),
    TokenSpec(
        "USOL",
        254,
        3,
        8,
        "0x49b67c39f5566535de22b29b0e51e685",
        False,
        "Unit Solana",
        "0x068f321fa8fb9f0d135f290ef6a3e2813e1c8a29",
        1,
        6.0e5,
        "1.0",
    ),
)

_SPOTS = (
    SpotSpec("PURR/USDC", 0, 1, 0, "PURR", 0.0, 1.0),
    SpotSpec("@107", 107, 150, 0, "HYPE", 0.0004, 0.25),
    SpotSpec("@142", 142, 197, 0, "BTC", 0.0002, 0.02),
    SpotSpec("@151", 151, 221, 0, "ETH", 0.0003, 0.03),
    SpotSpec("@156", 156, 254, 0, "SOL", -0.0002, 0.02),
)
_SPOT_ONLY_SERIES = (SeriesSpec("PURR", 0.113, 1.5, 0.3, 8.0e5),)


def round_px(px: float, sz_decimals: int, *, spot: bool = False) -> float:
    """Hyperliquid price rule: 5 significant figures, at most (6|8 − szDecimals) decimals."""
    if px <= 0 or not math.isfinite(px):
        return px
    max_decimals = (8 if spot else 6) - sz_decimals
    sig = 5 - math.floor(math.log10(px)) - 1
    return round(px, max(0, min(sig, max_decimals)))


def fmt_decimal(x: float) -> str:
    """Render a float the way Hyperliquid writes decimals: plain digits, at least one decimal."""
    s = format(Decimal(repr(float(x))), "f")
    return s if "." in s else s + ".0"


class _Chunk(msgspec.Struct):
    """One day of 1-minute rows for one series (arrays of length CHUNK_MINUTES)."""

    o: np.ndarray
    h: np.ndarray
    l: np.ndarray  # noqa: E741
    c: np.ndarray
    v: np.ndarray
    n: np.ndarray
    th: np.ndarray
    tl: np.ndarray
    prem: np.ndarray
    lp: np.ndarray


_FIELDS = ("o", "h", "l", "c", "v", "n", "th", "tl", "prem")


class SimMarket:
    """Deterministic synthetic market; see the module docstring."""

    def __init__(self, seed: int, start_ms: int, *, cache_chunks: int = 256) -> None:
        if seed < 0:
            raise ValueError("seed must be >= 0")
        self.seed = seed
        self.origin_ms = -(-start_ms // MINUTE_MS) * MINUTE_MS
        self._origin_min = self.origin_ms // MINUTE_MS
        self.perps: list[PerpSpec] = []
        self._series: dict[str, SeriesSpec] = {}
        for name, px, szd, lev, table, vol, rho, ntl, oi, cex in _PERPS:
            self.perps.append(PerpSpec(name, szd, lev, table, oi, cex))
            self._series[name] = SeriesSpec(name, px, vol, rho, ntl)
        for spec in _SPOT_ONLY_SERIES:
            self._series[spec.name] = spec
        self.margin_tables = list(_MARGIN_TABLES)
        self.tokens = list(_TOKENS)
        self.spots = list(_SPOTS)
        self._perp = {p.name: p for p in self.perps}
        self._spot = {s.name: s for s in self.spots}
        self._token = {t.index: t for t in self.tokens}
        self._ends: dict[str, list[tuple[float, np.ndarray]]] = {}
        self._cache: OrderedDict[tuple[str, int], _Chunk] = OrderedDict()
        self._cache_chunks = cache_chunks

    # ------------------------------------------------------------ universe

    def coins(self) -> list[str]:
        """Every coin name served: perps, then spot pairs (`PURR/USDC`, `@107`, ...)."""
        return [p.name for p in self.perps] + [s.name for s in self.spots]

    def perp(self, coin: str) -> PerpSpec:
        return self._perp[coin]

    def spot(self, coin: str) -> SpotSpec:
        return self._spot[coin]

    def token(self, index: int) -> TokenSpec:
        return self._token[index]

    def is_coin(self, coin: str) -> bool:
        return coin in self._perp or coin in self._spot

    def sz_decimals(self, coin: str) -> int:
        if coin in self._perp:
            return self._perp[coin].sz_decimals
        return self._token[self._spot[coin].base].sz_decimals

    # ------------------------------------------------------------ prices

    def mid(self, coin: str, t_ms: int) -> float:
        self._check_time(t_ms)
        series, scale, _ = self._route(coin)
        row = self._row(series, t_ms // MINUTE_MS)
        return self._round(coin, _path_at(row, (t_ms % MINUTE_MS) / MINUTE_MS) * scale)

    def mids(self, t_ms: int) -> dict[str, float]:
        return {coin: self.mid(coin, t_ms) for coin in self.coins()}

    def candles(
        self, coin: str, interval: str, start_ms: int, end_ms: int, *, limit: int | None = None
    ) -> list[HlCandle]:
        """Candles overlapping [start_ms, end_ms], oldest first; the last one as of end_ms."""
        series, scale, vshare = self._route(coin)
        lo = max(start_ms, self.origin_ms)
        if end_ms < lo:
            return []
        starts = bucket_starts(interval, lo, end_ms)
        if limit is not None:
            starts = starts[:limit]
        m_first = max(starts[0] // MINUTE_MS, self._origin_min)
        m_end = min(end_ms // MINUTE_MS, bucket_end(interval, starts[-1]) // MINUTE_MS - 1)
        rows = self._rows(series, m_first, m_end)
        f = (end_ms % MINUTE_MS) / MINUTE_MS if end_ms // MINUTE_MS == m_end else 1.0
        partial = _partial(self._row(series, m_end), f)
        for key in ("o", "h", "l", "c", "v", "n"):
            rows[key] = np.append(rows[key], partial[key])
        minute_ms = np.arange(m_first, m_end + 1, dtype=np.int64) * MINUTE_MS
        idx = np.searchsorted(minute_ms, np.maximum(starts, m_first * MINUTE_MS))
        o = rows["o"][idx]
        c = rows["c"][np.append(idx[1:], len(minute_ms)) - 1]
        h = np.maximum.reduceat(rows["h"], idx)
        low = np.minimum.reduceat(rows["l"], idx)
        v = np.add.reduceat(rows["v"], idx) * vshare
        n = np.add.reduceat(rows["n"], idx) * vshare
        szd = self.sz_decimals(coin)
        out = []
        for k, t in enumerate(starts):
            out.append(
                HlCandle(
                    coin=coin,
                    interval=interval,
                    open_ms=int(t),
                    close_ms=bucket_end(interval, int(t)) - 1,
                    open=self._round(coin, o[k] * scale),
                    high=self._round(coin, h[k] * scale),
                    low=self._round(coin, low[k] * scale),
                    close=self._round(coin, c[k] * scale),
                    volume=round(float(v[k]), szd),
                    trades=int(n[k]),
                )
            )
        return out

    # ------------------------------------------------------------ perp context and funding

    def asset_ctx(self, coin: str, t_ms: int) -> AssetCtx:
        self._check_time(t_ms)
        perp = self._perp[coin]
        spec = self._series[coin]
        mid = self.mid(coin, t_ms)
        premium = float(self._row(coin, t_ms // MINUTE_MS)["prem"])
        oracle = self._round(coin, mid / (1 + premium))
        half_spread = min(2e-3, max(1e-5, 2e-5 * math.sqrt(1e9 / spec.day_ntl)))
        ntl, base = self._day_volume(coin, t_ms, 1.0)
        phase = (zlib.crc32(coin.encode()) % 1000) / 1000 * 2 * math.pi
        wave = 1 + 0.15 * math.sin(2 * math.pi * (t_ms - self.origin_ms) / (5 * DAY_MS) + phase)
        oi = perp.oi_ntl / spec.px * wave * (1 + 50 * premium)
        return AssetCtx(
            coin=coin,
            funding=round(self._funding(coin, t_ms // HOUR_MS * HOUR_MS, t_ms), 10),
            open_interest=round(oi, perp.sz_decimals),
            prev_day_px=self._prev_day_px(coin, t_ms),
            day_ntl_vlm=round(ntl, 4),
            day_base_vlm=round(base, perp.sz_decimals),
            oracle_px=oracle,
            mark_px=self._round(coin, (2 * mid + oracle) / 3),
            premium=round(premium, 10),
            mid_px=mid,
            impact_bid=self._round(coin, mid * (1 - half_spread)),
            impact_ask=self._round(coin, mid * (1 + half_spread)),
        )

    def spot_ctx(self, coin: str, t_ms: int) -> SpotCtx:
        self._check_time(t_ms)
        spot = self._spot[coin]
        token = self._token[spot.base]
        mid = self.mid(coin, t_ms)
        ntl, base = self._day_volume(spot.series, t_ms, spot.volume_share, 1 + spot.basis)
        return SpotCtx(
            coin=coin,
            prev_day_px=self._prev_day_px(coin, t_ms),
            day_ntl_vlm=round(ntl, 4),
            mark_px=mid,
            mid_px=mid,
            circulating_supply=token.supply,
            total_supply=token.supply,
            day_base_vlm=round(base, token.sz_decimals),
        )

    def funding_history(
        self, coin: str, start_ms: int, end_ms: int, *, limit: int | None = None
    ) -> list[FundingRate]:
        """Hourly settlements whose (slightly jittered) time lies in [start_ms, end_ms]."""
        self._perp[coin]
        out: list[FundingRate] = []
        h = max(start_ms, self.origin_ms) // HOUR_MS * HOUR_MS
        while h <= end_ms and (limit is None or len(out) < limit):
            time_ms = h + zlib.crc32(f"{self.seed}:{coin}:{h}".encode()) % 400
            if h > self.origin_ms and start_ms <= time_ms <= end_ms:
                prem = self._mean_premium(coin, h - HOUR_MS, h - 1)
                rate = round(_funding_rate(prem), 10)
                out.append(FundingRate(coin, rate, round(prem, 10), time_ms))
            h += HOUR_MS
        return out

    def predicted_fundings(self, t_ms: int) -> list[tuple[str, list[VenueFunding | None]]]:
        """Per perp, sorted by name: Binance, Hyperliquid, Bybit; None where a CEX lacks it."""
        self._check_time(t_ms)
        out = []
        next_hour = (t_ms // HOUR_MS + 1) * HOUR_MS
        next_8h = (t_ms // (8 * HOUR_MS) + 1) * 8 * HOUR_MS
        for perp in sorted(self.perps, key=lambda p: p.name):
            hl = round(self._funding(perp.name, t_ms // HOUR_MS * HOUR_MS, t_ms), 10)
            venues: list[VenueFunding | None] = []
            for venue in ("BinPerp", "HlPerp", "BybitPerp"):
                if venue == "HlPerp":
                    venues.append(VenueFunding(venue, hl, next_hour, 1))
                elif not perp.on_cex:
                    venues.append(None)
                else:
                    venue_key = zlib.crc32(f"{perp.name}:{venue}".encode())
                    key = [self.seed, venue_key, next_8h // HOUR_MS]
                    u = float(np.random.default_rng(key).uniform(0.5, 1.5))
                    venues.append(VenueFunding(venue, round(hl * 8 * u, 8), next_8h, 8))
            out.append((perp.name, venues))
        return out

    # ------------------------------------------------------------ internals

    def _check_time(self, t_ms: int) -> None:
        if t_ms < self.origin_ms:
            raise ValueError(f"t={t_ms} is before the simulated market starts ({self.origin_ms})")

    def _route(self, coin: str) -> tuple[str, float, float]:
        """(series, price scale, volume share) behind a coin."""
        if coin in self._perp:
            return coin, 1.0, 1.0
        spot = self._spot[coin]
        return spot.series, 1 + spot.basis, spot.volume_share

    def _round(self, coin: str, px: float) -> float:
        return round_px(float(px), self.sz_decimals(coin), spot=coin in self._spot)

    def _prev_day_px(self, coin: str, t_ms: int) -> float:
        return self.mid(coin, max(self.origin_ms, t_ms - DAY_MS))

    def _day_volume(
        self, series: str, t_ms: int, share: float, scale: float = 1.0
    ) -> tuple[float, float]:
        """(notional, base) volume over the 24 h up to t_ms."""
        m_end = t_ms // MINUTE_MS
        m0 = max(self._origin_min, m_end - CHUNK_MINUTES)
        rows = self._rows(series, m0, m_end)
        part = _partial(self._row(series, m_end), (t_ms % MINUTE_MS) / MINUTE_MS)
        base = float(rows["v"].sum()) + part["v"]
        ntl = float((rows["v"] * (rows["o"] + rows["c"]) / 2).sum()) + part["v"] * part["c"]
        return ntl * share * scale, base * share

    def _mean_premium(self, coin: str, t0_ms: int, t1_ms: int) -> float:
        m0 = max(self._origin_min, t0_ms // MINUTE_MS)
        m1 = t1_ms // MINUTE_MS + 1
        if m1 <= m0:
            return 0.0
        return float(self._rows(coin, m0, m1)["prem"].mean())

    def _funding(self, coin: str, hour_start_ms: int, t_ms: int) -> float:
        return _funding_rate(self._mean_premium(coin, hour_start_ms, t_ms))

    def _row(self, series: str, minute: int) -> dict[str, float]:
        k = minute - self._origin_min
        chunk = self._chunk(series, k // CHUNK_MINUTES)
        i = k % CHUNK_MINUTES
        return {f: float(getattr(chunk, f)[i]) for f in _FIELDS}

    def _rows(self, series: str, m0: int, m1: int) -> dict[str, np.ndarray]:
        """Rows for absolute minutes [m0, m1), all at or after the origin."""
        parts: dict[str, list[np.ndarray]] = {f: [] for f in _FIELDS}
        k0, k1 = m0 - self._origin_min, m1 - self._origin_min
        k = k0
        while k < k1:
            c, i = divmod(k, CHUNK_MINUTES)
            j = min(CHUNK_MINUTES, i + (k1 - k))
            chunk = self._chunk(series, c)
            for f in _FIELDS:
                parts[f].append(getattr(chunk, f)[i:j])
            k += j - i
        return {f: np.concatenate(p) if p else np.empty(0) for f, p in parts.items()}

    def _chunk(self, series: str, c: int) -> _Chunk:
        key = (series, c)
        chunk = self._cache.get(key)
        if chunk is not None:
            self._cache.move_to_end(key)
            return chunk
        ends = self._ends.setdefault(series, [])
        while len(ends) < c:
            self._chunk(series, len(ends))
        spec = self._series[series]
        start = ends[c - 1] if c > 0 else (math.log(spec.px), np.full(60, math.log(spec.px)))
        chunk = _generate(self.seed, spec, c, *start)
        if len(ends) == c:
            ends.append((float(chunk.lp[-1]), chunk.lp[-60:].copy()))
        self._cache[key] = chunk
        if len(self._cache) > self._cache_chunks:
            self._cache.popitem(last=False)
        return chunk


def _funding_rate(premium: float) -> float:
    """Hyperliquid's formula on the 8 h basis, paid hourly: (P + clamp(r − P, ±0.05%)) / 8."""
    rate = (premium + min(0.0005, max(-0.0005, _INTEREST_8H - premium))) / 8
    return min(0.04, max(-0.04, rate))


def _generate(seed: int, spec: SeriesSpec, c: int, lp0: float, tail: np.ndarray) -> _Chunk:
    n = CHUNK_MINUTES
    mkt = np.random.default_rng([seed, _MARKET_KEY, c])
    regime = np.repeat(_REGIMES[mkt.choice(3, size=6, p=_REGIME_P)], n // 6)
    z_m = mkt.standard_normal(n)
    mkt_jumps = (mkt.random(n) < 1 / (2 * n)) * mkt.normal(0.0, 0.015, n)

    rng = np.random.default_rng([seed, zlib.crc32(spec.name.encode()), c])
    regime = regime * np.repeat(rng.choice([0.75, 1.0, 1.5], size=6, p=[0.3, 0.5, 0.2]), n // 6)
    z_i = rng.standard_normal(n)
    jumps = (rng.random(n) < 1 / (3 * n)) * rng.normal(0.0, 0.025 * spec.vol / 0.6, n)
    wick_hi, wick_lo = np.abs(rng.standard_normal((2, n)))
    th, tl = rng.uniform(0.05, 0.95, (2, n))
    vol_noise = rng.lognormal(0.0, 0.5, n)
    prem_noise = rng.standard_normal(n)

    sigma = spec.vol / math.sqrt(_MINUTES_PER_YEAR) * regime
    r = sigma * (spec.rho * z_m + math.sqrt(1 - spec.rho**2) * z_i) + jumps + spec.rho * mkt_jumps
    lp = lp0 + np.cumsum(r)
    lo_open = np.concatenate(([lp0], lp[:-1]))
    o, cl = np.exp(lo_open), np.exp(lp)
    h = np.maximum(o, cl) * np.exp(0.5 * sigma * wick_hi)
    low = np.minimum(o, cl) * np.exp(-0.5 * sigma * wick_lo)

    activity = regime**1.2 * vol_noise * (0.6 + 0.4 * np.minimum(np.abs(r) / sigma, 4.0))
    ntl = spec.day_ntl / n * activity
    v = ntl / ((o + cl) / 2)
    trades = np.floor(30 * activity) + 1

    ext = np.concatenate((tail, lp))
    cs = np.concatenate(([0.0], np.cumsum(ext)))
    mean60 = (cs[60 : 60 + n] - cs[:n]) / 60
    prem = np.clip(0.08 * (lp - mean60) + 0.00008 * prem_noise, -0.004, 0.004)
    return _Chunk(o=o, h=h, l=low, c=cl, v=v, n=trades, th=th, tl=tl, prem=prem, lp=lp)


def _path_points(row: dict[str, float]) -> list[tuple[float, float]]:
    return sorted([(0.0, row["o"]), (row["th"], row["h"]), (row["tl"], row["l"]), (1.0, row["c"])])


def _path_at(row: dict[str, float], f: float) -> float:
    """Price at fraction f of the minute on the open → high/low → close path."""
    pts = _path_points(row)
    for (f0, p0), (f1, p1) in pairwise(pts):
        if f <= f1:
            return p0 if f1 == f0 else p0 + (p1 - p0) * (f - f0) / (f1 - f0)
    return row["c"]


def _partial(row: dict[str, float], f: float) -> dict[str, float]:
    """The minute's candle as it stood at fraction f (f=1: the finished candle)."""
    if f >= 1.0:
        return {k: row[k] for k in ("o", "h", "l", "c", "v", "n")}
    seen = [p for t, p in _path_points(row) if t <= f]
    px = _path_at(row, f)
    return {
        "o": row["o"],
        "h": max(*seen, px),
        "l": min(*seen, px),
        "c": px,
        "v": row["v"] * f,
        "n": math.floor(row["n"] * f),
    }


def bucket_start(interval: str, t_ms: int) -> int:
    """Open time of the candle of this interval that contains t_ms."""
    if interval == "1M":
        d = dt.datetime.fromtimestamp(t_ms / 1000, dt.UTC)
        return calendar.timegm((d.year, d.month, 1, 0, 0, 0)) * 1000
    size = INTERVAL_MINUTES[interval] * MINUTE_MS
    offset = _WEEK_OFFSET_MS if interval == "1w" else 0
    return (t_ms - offset) // size * size + offset


def bucket_end(interval: str, start_ms: int) -> int:
    """Open time of the next bucket."""
    if interval == "1M":
        d = dt.datetime.fromtimestamp(start_ms / 1000, dt.UTC)
        y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
        return calendar.timegm((y, m, 1, 0, 0, 0)) * 1000
    return start_ms + INTERVAL_MINUTES[interval] * MINUTE_MS


def bucket_starts(interval: str, lo_ms: int, hi_ms: int) -> list[int]:
    if interval not in INTERVALS:
        raise ValueError(f"unknown interval {interval!r}")
    out = [bucket_start(interval, lo_ms)]
    while (nxt := bucket_end(interval, out[-1])) <= hi_ms:
        out.append(nxt)
    return out


class SimAsset(msgspec.Struct, frozen=True, kw_only=True):
    """One symbol of the simulator's universe: perps by name, spot pairs named BASE/QUOTE as the
    registry names them (`pair` is the simulator's own pair name, e.g. `@107`)."""

    symbol: str
    is_spot: bool
    pair: str


def sim_universe(seed: int) -> list[SimAsset]:
    """Every symbol the simulator seeded with `seed` lists, without generating any history."""
    market = SimMarket(seed, 0)
    out = [SimAsset(symbol=p.name, is_spot=False, pair=p.name) for p in market.perps]
    for s in market.spots:
        name = f"{market.token(s.base).name}/{market.token(s.quote).name}"
        out.append(SimAsset(symbol=name, is_spot=True, pair=s.name))
    return out
