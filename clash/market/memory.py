"""Market memory: the only code that reads or writes the market tables.

Writers take a `Transaction` so a source actor commits its rows and its health counters together.
Readers take the `Database` and open one snapshot each.

Known time: every row an as-of read serves carries `received_ms`, the writer's clock when the row
was written. A read bounded by `as_of_ms` returns a row only if it was received by then and its
own time is over: a 1-minute candle (and its indicators) from `t_ms + 1 min`, an hour candle from
`t_ms + 1 h`, a polled row from its poll time. Candles and indicators are keyed by their own time
and can be corrected in place (a late candle, a re-roll of its hour, a backfill); the version a
correction replaces moves to `<table>_revisions` (triggers in migration 0002, or
`reset_indicator_state`), so a read for a past `as_of_ms` returns exactly what was known then.
Reads without `as_of_ms` and the writers' own reads see the current rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import msgspec

from clash.market.candles import HOUR_MS, MINUTE_MS, Candle
from clash.market.health import HealthCounters
from clash.market.indicators import FIELDS, IndicatorPoint, IndicatorState
from clash.market.polymarket.summary import MarketSummary
from clash.market.registry import AssetInfo, AssetStats
from clash.market.rollup import HourCandle, rollup_hours
from clash.store import Database, Reader, Session, Transaction

Interval = Literal["1m", "1h"]
PolymarketKind = Literal["immediate", "later", "recently_closed", "asset"]
Pressure = Literal["longs_pay", "shorts_pay", "neutral"]

_NEVER = 2**62


def _px(x: float) -> Decimal:
    """A stored float price as the exact decimal it was written from (shortest repr)."""
    return Decimal(repr(float(x)))


# ================================================================= row types


class IndicatorRow(msgspec.Struct, frozen=True):
    """The indicators of the 1-minute candle that opened at `t_ms` (None until defined)."""

    t_ms: int
    rsi: float | None
    sma: float | None
    ema: float | None
    bb_upper: float | None
    bb_lower: float | None
    macd: float | None
    macd_signal: float | None
    macd_hist: float | None

    @classmethod
    def of(cls, t_ms: int, p: IndicatorPoint) -> IndicatorRow:
        return cls(t_ms, *(getattr(p, f) for f in FIELDS))


class FundingRow(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    t_ms: int
    rate: float
    premium: float | None
    oracle_px: float
    mark_px: float
    open_interest: float
    predicted_rate: float | None = None
    predicted_next_ms: int | None = None
    predicted_ms: int | None = None


class SettledFunding(msgspec.Struct, frozen=True):
    symbol: str
    time_ms: int
    rate: float
    premium: float


class LiquidityProfile(msgspec.Struct, frozen=True, kw_only=True):
    day_ntl_vlm: float
    open_interest: float
    oi_ntl: float
    impact_bid: float | None
    impact_ask: float | None
    impact_spread_bps: float | None


class VolatilityProfile(msgspec.Struct, frozen=True, kw_only=True):
    rv_1h: float | None
    rv_24h: float | None
    range_1h_pct: float | None
    range_24h_pct: float | None
    change_24h_pct: float | None


class PositioningProfile(msgspec.Struct, frozen=True, kw_only=True):
    oi_change_1h_pct: float | None
    oi_change_24h_pct: float | None
    funding_rate: float
    funding_apr: float
    premium: float | None
    predicted_rate: float | None
    pressure: Pressure


class AssetProfile(msgspec.Struct, frozen=True):
    symbol: str
    t_ms: int
    liquidity: LiquidityProfile
    volatility: VolatilityProfile
    positioning: PositioningProfile


class PolymarketRow(msgspec.Struct, frozen=True):
    kind: PolymarketKind
    symbol: str
    rank: int
    market: MarketSummary


class PolymarketContext(msgspec.Struct, frozen=True):
    """The latest Polymarket snapshot known at as_of, for one symbol."""

    t_ms: int | None
    immediate: MarketSummary | None = None
    later: MarketSummary | None = None
    recently_closed: list[MarketSummary] = []
    linked: list[MarketSummary] = []


class MacroObservation(msgspec.Struct, frozen=True, kw_only=True):
    observed_ms: int
    family: str
    scope: str
    subject: str
    metric: str
    usd_micros: int
    change_pct: float | None
    as_of_ms: int
    linked_symbol: str | None


class SnapshotRow(msgspec.Struct, frozen=True):
    source: str
    channel: str
    t_ms: int
    status: str
    rows_total: int
    errors_total: int
    decode_errors_total: int
    lag_ms: int | None
    coverage: float | None


# ================================================================= asset registry

_ASSET_COLS = (
    "symbol, coin, kind, asset_index, base, quote, sz_decimals, max_leverage, only_isolated,"
    " delisted, enabled, channels, categories"
)


def _asset(row: tuple[Any, ...]) -> AssetInfo:
    (symbol, coin, kind, index, base, quote, szd, lev, iso, delisted, enabled, channels, cats) = row
    return AssetInfo(
        symbol=symbol,
        coin=coin,
        kind=kind,
        asset_index=index,
        sz_decimals=szd,
        max_leverage=lev,
        is_spot=kind == "spot",
        enabled=bool(enabled),
        delisted=bool(delisted),
        only_isolated=bool(iso),
        base=base,
        quote=quote,
        channels=tuple(msgspec.json.decode(channels)),
        categories=tuple(msgspec.json.decode(cats)),
    )


async def upsert_assets(tx: Transaction, assets: Sequence[AssetInfo], now_ms: int) -> int:
    """Write the registry; a known asset missing from the new listing is marked delisted."""
    enc = msgspec.json.encode
    listed = {a.symbol for a in assets}
    kinds = {a.kind for a in assets}
    # A coin name can move to another symbol (a spot token renamed): free it first.
    await tx.executemany(
        "DELETE FROM hyperliquid_assets WHERE coin = ? AND symbol != ?",
        [(a.coin, a.symbol) for a in assets],
    )
    await tx.executemany(
        f"INSERT INTO hyperliquid_assets ({_ASSET_COLS}, first_seen_ms, updated_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (symbol) DO UPDATE SET coin = excluded.coin, kind = excluded.kind,"
        " asset_index = excluded.asset_index, base = excluded.base, quote = excluded.quote,"
        " sz_decimals = excluded.sz_decimals, max_leverage = excluded.max_leverage,"
        " only_isolated = excluded.only_isolated, delisted = excluded.delisted,"
        " enabled = excluded.enabled, channels = excluded.channels,"
        " categories = excluded.categories, updated_ms = excluded.updated_ms",
        [
            (
                a.symbol,
                a.coin,
                a.kind,
                a.asset_index,
                a.base,
                a.quote,
                a.sz_decimals,
                a.max_leverage,
                int(a.only_isolated),
                int(a.delisted),
                int(a.enabled),
                enc(list(a.channels)).decode(),
                enc(list(a.categories)).decode(),
                now_ms,
                now_ms,
            )
            for a in assets
        ],
    )
    gone = [
        (now_ms, symbol)
        for symbol, kind in await tx.fetchall("SELECT symbol, kind FROM hyperliquid_assets")
        if symbol not in listed and kind in kinds
    ]
    await tx.executemany(
        "UPDATE hyperliquid_assets SET delisted = 1, enabled = 0, updated_ms = ? WHERE symbol = ?",
        gone,
    )
    return len(assets)


async def update_asset_stats(tx: Transaction, stats: Iterable[AssetStats]) -> int:
    rows = [(s.day_ntl_vlm, s.prev_day_px, s.mark_px, s.at_ms, s.symbol) for s in stats]
    await tx.executemany(
        "UPDATE hyperliquid_assets SET day_ntl_vlm = ?, prev_day_px = ?, mark_px = ?, stats_ms = ?"
        " WHERE symbol = ?",
        rows,
    )
    return len(rows)


async def assets(db: Database) -> list[AssetInfo]:
    async with db.read() as r:
        rows = await r.fetchall(
            f"SELECT {_ASSET_COLS} FROM hyperliquid_assets ORDER BY kind, asset_index"
        )
    return [_asset(row) for row in rows]


async def asset_stats(db: Database) -> list[AssetStats]:
    async with db.read() as r:
        rows = await r.fetchall(
            "SELECT symbol, day_ntl_vlm, prev_day_px, mark_px, stats_ms FROM hyperliquid_assets"
            " WHERE stats_ms IS NOT NULL AND delisted = 0"
        )
    return [AssetStats(*row) for row in rows]


# ================================================================= mids and marks


async def upsert_mids(tx: Transaction, mids: Mapping[str, float], at_ms: int) -> int:
    await tx.executemany(
        "INSERT INTO hl_mids (symbol, px, at_ms) VALUES (?, ?, ?)"
        " ON CONFLICT (symbol) DO UPDATE SET px = excluded.px, at_ms = excluded.at_ms"
        " WHERE excluded.at_ms >= hl_mids.at_ms",
        [(symbol, px, at_ms) for symbol, px in mids.items()],
    )
    return len(mids)


async def latest_prices(
    db: Database, symbols: Iterable[str], as_of_ms: int | None = None
) -> dict[str, tuple[Decimal, int]]:
    """symbol → (price, when it was known): the latest mid, else the latest closed candle's close.
    As-of reads use closes only (mids keep no history). Symbols without any price are left out."""
    wanted = list(dict.fromkeys(symbols))
    bound = _NEVER if as_of_ms is None else as_of_ms
    found: dict[str, tuple[float, int]] = {}
    async with db.read() as r:
        if as_of_ms is None:
            keep = set(wanted)
            found = {
                s: (px, at)
                for s, px, at in await r.fetchall("SELECT symbol, px, at_ms FROM hl_mids")
                if s in keep
            }
        for symbol in wanted:
            if symbol not in found and (row := await _last_close(r, symbol, bound)) is not None:
                found[symbol] = row
    return {s: (_px(found[s][0]), found[s][1]) for s in wanted if s in found}


async def _last_close(r: Reader, symbol: str, as_of_ms: int) -> tuple[float, int] | None:
    for table, bar_ms in (("candles_1m", MINUTE_MS), ("candles_1h", HOUR_MS)):
        row = await r.fetchone(_known(table, "t_ms, c"), (symbol, as_of_ms - bar_ms, as_of_ms, 1))
        if row is not None:
            return row[1], row[0] + bar_ms
    return None


def _known(table: str, cols: str) -> str:
    """The newest `?4` rows of a revised table for symbol `?1` with `t_ms <= ?2`, as known at `?3`
    (newest first): a current row received by then, else the revision that was current then.
    Params: (symbol, t_ms bound, as_of, limit)."""
    return (
        f"SELECT {cols} FROM {table} WHERE symbol = ?1 AND t_ms <= ?2 AND received_ms <= ?3"
        f" UNION ALL SELECT {cols} FROM {table}_revisions WHERE symbol = ?1 AND t_ms <= ?2"
        " AND received_ms <= ?3 AND superseded_ms > ?3 ORDER BY t_ms DESC LIMIT ?4"
    )


# ================================================================= candles and indicators

_UPSERT_1M = (
    "INSERT INTO candles_1m (symbol, t_ms, o, h, l, c, v, n, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (symbol, t_ms) DO UPDATE SET o = excluded.o, h = excluded.h, l = excluded.l,"
    " c = excluded.c, v = excluded.v, n = excluded.n, received_ms = excluded.received_ms"
    " WHERE (o, h, l, c, v, n) IS NOT (excluded.o, excluded.h, excluded.l, excluded.c, excluded.v, excluded.n)"
)
_UPSERT_1H = (
    "INSERT INTO candles_1h (symbol, t_ms, o, h, l, c, v, n, minutes, complete, origin,"
    " received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (symbol, t_ms) DO UPDATE SET o = excluded.o, h = excluded.h, l = excluded.l,"
    " c = excluded.c, v = excluded.v, n = excluded.n, minutes = excluded.minutes,"
    " complete = excluded.complete, origin = excluded.origin, received_ms = excluded.received_ms"
    " WHERE (o, h, l, c, v, n, minutes, complete, origin) IS NOT (excluded.o, excluded.h,"
    " excluded.l, excluded.c, excluded.v, excluded.n, excluded.minutes, excluded.complete,"
    " excluded.origin)"
)
_UPSERT_IND = (
    f"INSERT INTO indicators_1m (symbol, t_ms, {', '.join(FIELDS)}, received_ms)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (symbol, t_ms) DO UPDATE SET "
    + ", ".join(f"{f} = excluded.{f}" for f in FIELDS)
    + ", received_ms = excluded.received_ms"
    f" WHERE ({', '.join(FIELDS)}) IS NOT ({', '.join('excluded.' + f for f in FIELDS)})"
)


def _c1m(symbol: str, c: Candle, now_ms: int) -> tuple[Any, ...]:
    return (symbol, c.t_ms, c.o, c.h, c.l, c.c, c.v, c.n, now_ms)


async def upsert_candle(tx: Transaction, symbol: str, candle: Candle, now_ms: int) -> bool:
    """Idempotent write of one 1-minute candle; True when it was new or its values changed."""
    res = await tx.execute(_UPSERT_1M, _c1m(symbol, candle, now_ms))
    changed = res.rowcount > 0
    if changed:
        await _roll_hours(tx, symbol, {candle.t_ms // HOUR_MS}, now_ms)
    return changed


async def write_closed(
    tx: Transaction,
    symbol: str,
    closed: Sequence[tuple[Candle, IndicatorPoint]],
    state: IndicatorState,
    now_ms: int,
) -> None:
    """Closed 1-minute candles with their indicators, the running state after the last of them,
    and the hour rollups they touch: all in the caller's one transaction."""
    if not closed:
        return
    await tx.executemany(_UPSERT_1M, [_c1m(symbol, c, now_ms) for c, _ in closed])
    await tx.executemany(
        _UPSERT_IND, [(symbol, c.t_ms, *(getattr(p, f) for f in FIELDS), now_ms) for c, p in closed]
    )
    await tx.execute(
        "INSERT OR REPLACE INTO indicator_state (symbol, last_t_ms, state, updated_ms) VALUES (?, ?, ?, ?)",
        (symbol, closed[-1][0].t_ms, msgspec.json.encode(state).decode(), now_ms),
    )
    await _roll_hours(tx, symbol, {c.t_ms // HOUR_MS for c, _ in closed}, now_ms)


async def _roll_hours(tx: Transaction, symbol: str, buckets: Iterable[int], now_ms: int) -> None:
    for bucket in sorted(buckets):
        rows = await tx.fetchall(
            "SELECT t_ms, o, h, l, c, v, n FROM candles_1m WHERE symbol = ? AND t_ms >= ? AND t_ms < ?",
            (symbol, bucket * HOUR_MS, (bucket + 1) * HOUR_MS),
        )
        for hour in rollup_hours([Candle(*row) for row in rows], now_ms):
            await tx.execute(_UPSERT_1H, _c1h(symbol, hour, "rollup", now_ms))


def _c1h(symbol: str, c: HourCandle, origin: str, now_ms: int) -> tuple[Any, ...]:
    return (
        symbol,
        c.t_ms,
        c.o,
        c.h,
        c.l,
        c.c,
        c.v,
        c.n,
        c.minutes,
        int(c.complete),
        origin,
        now_ms,
    )


async def upsert_source_hours(
    tx: Transaction, symbol: str, hours: Iterable[Candle], now_ms: int
) -> int:
    """Hour candles fetched from the source (backfill beyond the 1-minute history); a rollup of
    the same hour wins over them."""
    rows = [
        _c1h(
            symbol,
            HourCandle(
                h.t_ms, h.o, h.h, h.l, h.c, h.v, h.n, minutes=0, complete=now_ms >= h.t_ms + HOUR_MS
            ),
            "source",
            now_ms,
        )
        for h in hours
    ]
    res = await tx.executemany(_UPSERT_1H + " AND candles_1h.origin = 'source'", rows)
    return max(res.rowcount, 0)


async def load_indicator_states(db: Database) -> dict[str, tuple[int, IndicatorState]]:
    """symbol → (open time of the last closed candle folded in, running state)."""
    async with db.read() as r:
        rows = await r.fetchall("SELECT symbol, last_t_ms, state FROM indicator_state")
    return {s: (t, msgspec.json.decode(state, type=IndicatorState)) for s, t, state in rows}


async def reset_indicator_state(tx: Transaction, symbol: str, since_ms: int, now_ms: int) -> None:
    """Forget the running state and indicator rows from `since_ms` on (a backfill rebuilds them);
    the forgotten rows stay revisions, known until `now_ms`."""
    await tx.execute("DELETE FROM indicator_state WHERE symbol = ?", (symbol,))
    await tx.execute(
        f"INSERT OR REPLACE INTO indicators_1m_revisions SELECT symbol, t_ms, {', '.join(FIELDS)},"
        " received_ms, ?1 FROM indicators_1m WHERE symbol = ?2 AND t_ms >= ?3 AND received_ms < ?1"
        " AND t_ms + ?4 < ?1",
        (now_ms, symbol, since_ms, MINUTE_MS),
    )
    await tx.execute("DELETE FROM indicators_1m WHERE symbol = ? AND t_ms >= ?", (symbol, since_ms))


async def candles(
    db: Database, symbol: str, interval: Interval, as_of_ms: int, limit: int = 500
) -> list[Candle]:
    """The latest `limit` candles over and known at `as_of_ms`, oldest first (1h: whole hours)."""
    table, bar_ms = ("candles_1m", MINUTE_MS) if interval == "1m" else ("candles_1h", HOUR_MS)
    async with db.read() as r:
        rows = await r.fetchall(
            _known(table, "t_ms, o, h, l, c, v, n"), (symbol, as_of_ms - bar_ms, as_of_ms, limit)
        )
    return [Candle(*row) for row in reversed(rows)]


async def candles_between(r: Session, symbol: str, start_ms: int, end_ms: int) -> list[Candle]:
    """1-minute candles with start_ms <= t_ms < end_ms, oldest first (profiles, tests)."""
    rows = await r.fetchall(
        "SELECT t_ms, o, h, l, c, v, n FROM candles_1m WHERE symbol = ? AND t_ms >= ? AND t_ms < ?"
        " ORDER BY t_ms",
        (symbol, start_ms, end_ms),
    )
    return [Candle(*row) for row in rows]


async def hour_candles(db: Database, symbol: str) -> list[HourCandle]:
    """Every stored hour of `symbol` with its completeness (the admin view and tests)."""
    async with db.read() as r:
        rows = await r.fetchall(
            "SELECT t_ms, o, h, l, c, v, n, minutes, complete FROM candles_1h WHERE symbol = ? ORDER BY t_ms",
            (symbol,),
        )
    return [
        HourCandle(t, o, h, l_, c, v, n, minutes=m, complete=bool(k))
        for t, o, h, l_, c, v, n, m, k in rows
    ]


async def indicators(
    db: Database, symbol: str, as_of_ms: int, limit: int = 500
) -> list[IndicatorRow]:
    async with db.read() as r:
        rows = await r.fetchall(
            _known("indicators_1m", f"t_ms, {', '.join(FIELDS)}"),
            (symbol, as_of_ms - MINUTE_MS, as_of_ms, limit),
        )
    return [IndicatorRow(*row) for row in reversed(rows)]


# ================================================================= funding and profiles

_FUNDING_COLS = (
    "symbol, t_ms, rate, premium, oracle_px, mark_px, open_interest, predicted_rate,"
    " predicted_next_ms, predicted_ms"
)


async def insert_funding(tx: Transaction, rows: Sequence[FundingRow], received_ms: int) -> int:
    await tx.executemany(
        f"INSERT OR REPLACE INTO hl_funding ({_FUNDING_COLS}, received_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                f.symbol,
                f.t_ms,
                f.rate,
                f.premium,
                f.oracle_px,
                f.mark_px,
                f.open_interest,
                f.predicted_rate,
                f.predicted_next_ms,
                f.predicted_ms,
                received_ms,
            )
            for f in rows
        ],
    )
    return len(rows)


async def upsert_funding_history(
    tx: Transaction, rows: Sequence[SettledFunding], received_ms: int
) -> int:
    """Settlements not stored yet; a settlement never changes, so the first receipt stands."""
    res = await tx.executemany(
        "INSERT OR IGNORE INTO hl_funding_history (symbol, time_ms, rate, premium, received_ms)"
        " VALUES (?, ?, ?, ?, ?)",
        [(f.symbol, f.time_ms, f.rate, f.premium, received_ms) for f in rows],
    )
    return max(res.rowcount, 0)


async def last_settlement_ms(db: Database, symbol: str) -> int | None:
    async with db.read() as r:
        return await r.fetchval(
            "SELECT max(time_ms) FROM hl_funding_history WHERE symbol = ?", (symbol,)
        )


async def funding(db: Database, symbol: str, as_of_ms: int, limit: int = 100) -> list[FundingRow]:
    async with db.read() as r:
        rows = await r.fetchall(
            f"SELECT {_FUNDING_COLS} FROM hl_funding WHERE symbol = ?1 AND t_ms <= ?2"
            " AND received_ms <= ?2 ORDER BY t_ms DESC LIMIT ?3",
            (symbol, as_of_ms, limit),
        )
    return [_funding_row(row) for row in reversed(rows)]


def _funding_row(row: tuple[Any, ...]) -> FundingRow:
    s, t, rate, prem, oracle, mark, oi, pr, pn, pm = row
    return FundingRow(
        symbol=s,
        t_ms=t,
        rate=rate,
        premium=prem,
        oracle_px=oracle,
        mark_px=mark,
        open_interest=oi,
        predicted_rate=pr,
        predicted_next_ms=pn,
        predicted_ms=pm,
    )


async def settled_funding(
    db: Database, symbol: str, as_of_ms: int, limit: int = 48
) -> list[SettledFunding]:
    async with db.read() as r:
        rows = await r.fetchall(
            "SELECT symbol, time_ms, rate, premium FROM hl_funding_history WHERE symbol = ?1"
            " AND time_ms <= ?2 AND received_ms <= ?2 ORDER BY time_ms DESC LIMIT ?3",
            (symbol, as_of_ms, limit),
        )
    return [SettledFunding(*row) for row in reversed(rows)]


async def funding_rates(
    db: Database, symbols: Iterable[str], as_of_ms: int | None = None
) -> dict[str, tuple[Decimal, Decimal]]:
    """symbol → (hourly rate, oracle price) from the latest poll; perps only."""
    out: dict[str, tuple[Decimal, Decimal]] = {}
    bound = _NEVER if as_of_ms is None else as_of_ms
    async with db.read() as r:
        for symbol in dict.fromkeys(symbols):
            row = await r.fetchone(
                "SELECT rate, oracle_px FROM hl_funding WHERE symbol = ?1 AND t_ms <= ?2"
                " AND received_ms <= ?2 ORDER BY t_ms DESC LIMIT 1",
                (symbol, bound),
            )
            if row is not None:
                out[symbol] = (_px(row[0]), _px(row[1]))
    return out


_PROFILE_COLS = (
    "symbol, t_ms, day_ntl_vlm, open_interest, oi_ntl, impact_bid, impact_ask, impact_spread_bps,"
    " rv_1h, rv_24h, range_1h_pct, range_24h_pct, change_24h_pct, oi_change_1h_pct,"
    " oi_change_24h_pct, funding_rate, funding_apr, premium, predicted_rate, pressure"
)


async def insert_profiles(
    tx: Transaction, profiles: Sequence[AssetProfile], received_ms: int
) -> int:
    rows = []
    for p in profiles:
        q, v, s = p.liquidity, p.volatility, p.positioning
        rows.append(
            (
                p.symbol,
                p.t_ms,
                q.day_ntl_vlm,
                q.open_interest,
                q.oi_ntl,
                q.impact_bid,
                q.impact_ask,
                q.impact_spread_bps,
                v.rv_1h,
                v.rv_24h,
                v.range_1h_pct,
                v.range_24h_pct,
                v.change_24h_pct,
                s.oi_change_1h_pct,
                s.oi_change_24h_pct,
                s.funding_rate,
                s.funding_apr,
                s.premium,
                s.predicted_rate,
                s.pressure,
                received_ms,
            )
        )
    await tx.executemany(
        f"INSERT OR REPLACE INTO hl_profiles ({_PROFILE_COLS}, received_ms)"
        f" VALUES ({', '.join('?' * 21)})",
        rows,
    )
    return len(rows)


def _profile(row: tuple[Any, ...]) -> AssetProfile:
    (
        symbol,
        t,
        vlm,
        oi,
        oi_ntl,
        bid,
        ask,
        spread,
        rv1,
        rv24,
        r1,
        r24,
        ch24,
        oi1,
        oi24,
        rate,
        apr,
        prem,
        pred,
        pressure,
    ) = row
    return AssetProfile(
        symbol,
        t,
        LiquidityProfile(
            day_ntl_vlm=vlm,
            open_interest=oi,
            oi_ntl=oi_ntl,
            impact_bid=bid,
            impact_ask=ask,
            impact_spread_bps=spread,
        ),
        VolatilityProfile(
            rv_1h=rv1, rv_24h=rv24, range_1h_pct=r1, range_24h_pct=r24, change_24h_pct=ch24
        ),
        PositioningProfile(
            oi_change_1h_pct=oi1,
            oi_change_24h_pct=oi24,
            funding_rate=rate,
            funding_apr=apr,
            premium=prem,
            predicted_rate=pred,
            pressure=pressure,
        ),
    )


async def profile(db: Database, symbol: str, as_of_ms: int) -> AssetProfile | None:
    async with db.read() as r:
        row = await r.fetchone(
            f"SELECT {_PROFILE_COLS} FROM hl_profiles WHERE symbol = ?1 AND t_ms <= ?2"
            " AND received_ms <= ?2 ORDER BY t_ms DESC LIMIT 1",
            (symbol, as_of_ms),
        )
    return None if row is None else _profile(row)


async def open_interest_at(r: Session, symbol: str, t_ms: int) -> float | None:
    """The open interest of the latest profile at or before `t_ms`."""
    return await r.fetchval(
        "SELECT open_interest FROM hl_profiles WHERE symbol = ? AND t_ms <= ? ORDER BY t_ms DESC LIMIT 1",
        (symbol, t_ms),
    )


# ================================================================= Polymarket and DefiLlama

_PM_COLS = (
    "t_ms, kind, symbol, rank, market_id, slug, question, outcomes, prices, volume_usd_micros,"
    " liquidity_usd_micros, end_ms, closed, resolved_outcome, event_slug"
)


async def insert_polymarket(
    tx: Transaction, t_ms: int, rows: Sequence[PolymarketRow], received_ms: int
) -> int:
    enc = msgspec.json.encode
    await tx.executemany(
        f"INSERT OR REPLACE INTO polymarket_summaries ({_PM_COLS}, received_ms)"
        f" VALUES ({', '.join('?' * 16)})",
        [
            (
                t_ms,
                r.kind,
                r.symbol,
                r.rank,
                m.market_id,
                m.slug,
                m.question,
                enc(list(m.outcomes)).decode(),
                enc([str(p) for p in m.prices]).decode(),
                m.volume_usd_micros,
                m.liquidity_usd_micros,
                m.end_ms,
                int(m.closed),
                m.resolved_outcome,
                m.event_slug,
                received_ms,
            )
            for r in rows
            for m in (r.market,)
        ],
    )
    return len(rows)


def _summary(row: tuple[Any, ...]) -> tuple[str, str, MarketSummary]:
    (
        _,
        kind,
        symbol,
        _,
        mid,
        slug,
        question,
        outcomes,
        prices,
        vol,
        liq,
        end,
        closed,
        resolved,
        event_slug,
    ) = row
    return (
        kind,
        symbol,
        MarketSummary(
            market_id=mid,
            slug=slug,
            question=question,
            outcomes=tuple(msgspec.json.decode(outcomes)),
            prices=tuple(Decimal(p) for p in msgspec.json.decode(prices)),
            volume_usd_micros=vol,
            liquidity_usd_micros=liq,
            end_ms=end,
            closed=bool(closed),
            resolved_outcome=resolved,
            event_slug=event_slug,
        ),
    )


async def polymarket_context(db: Database, symbol: str | None, as_of_ms: int) -> PolymarketContext:
    """The latest snapshot at or before as_of: global rows plus `symbol`'s linked markets."""
    async with db.read() as r:
        t = await r.fetchval(
            "SELECT max(t_ms) FROM polymarket_summaries WHERE t_ms <= ?1 AND received_ms <= ?1",
            (as_of_ms,),
        )
        if t is None:
            return PolymarketContext(t_ms=None)
        rows = await r.fetchall(
            f"SELECT {_PM_COLS} FROM polymarket_summaries WHERE t_ms = ?1 AND symbol IN ('', ?2)"
            " AND received_ms <= ?3 ORDER BY kind, rank",
            (t, symbol or "", as_of_ms),
        )
    got: dict[str, list[MarketSummary]] = {}
    for row in rows:
        kind, _, summary = _summary(row)
        got.setdefault(kind, []).append(summary)
    return PolymarketContext(
        t_ms=t,
        immediate=next(iter(got.get("immediate", [])), None),
        later=next(iter(got.get("later", [])), None),
        recently_closed=got.get("recently_closed", []),
        linked=got.get("asset", []),
    )


_MACRO_COLS = (
    "observed_ms, family, scope, subject, metric, usd_micros, change_pct, as_of_ms, linked_symbol"
)


async def insert_macro(tx: Transaction, rows: Sequence[MacroObservation], received_ms: int) -> int:
    await tx.executemany(
        f"INSERT OR REPLACE INTO macro_metrics ({_MACRO_COLS}, received_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                m.observed_ms,
                m.family,
                m.scope,
                m.subject,
                m.metric,
                m.usd_micros,
                m.change_pct,
                m.as_of_ms,
                m.linked_symbol,
                received_ms,
            )
            for m in rows
        ],
    )
    return len(rows)


async def macro_context(db: Database, symbol: str | None, as_of_ms: int) -> list[MacroObservation]:
    """The newest value of each global metric and of each metric linked to `symbol`, known at as_of."""
    async with db.read() as r:
        rows = await r.fetchall(
            f"SELECT {_MACRO_COLS} FROM (SELECT *, row_number() OVER ("
            " PARTITION BY scope, subject, metric ORDER BY observed_ms DESC) AS rn FROM macro_metrics"
            " WHERE observed_ms <= ?1 AND received_ms <= ?1"
            " AND (scope = 'global' OR linked_symbol = ?2))"
            " WHERE rn = 1 ORDER BY family, scope, subject, metric",
            (as_of_ms, symbol or ""),
        )
    return [MacroObservation(**dict(zip(_MACRO_COLS.split(", "), row))) for row in rows]


# ================================================================= health


async def record_success(
    tx: Transaction,
    source: str,
    channel: str,
    now_ms: int,
    *,
    rows: int,
    data_ms: int | None,
    symbols: Mapping[str, int] | None = None,
) -> None:
    """A successful attempt: reset the failure streak, count rows, note per-asset freshness."""
    await tx.execute(
        "INSERT INTO ingestion_health (source, channel, last_attempt_ms, last_success_ms, last_data_ms,"
        " consecutive_failures, rows_total) VALUES (?, ?, ?, ?, ?, 0, ?)"
        " ON CONFLICT (source, channel) DO UPDATE SET last_attempt_ms = excluded.last_attempt_ms,"
        " last_success_ms = excluded.last_success_ms,"
        " last_data_ms = coalesce(max(ingestion_health.last_data_ms, excluded.last_data_ms),"
        " ingestion_health.last_data_ms, excluded.last_data_ms),"
        " consecutive_failures = 0, rows_total = ingestion_health.rows_total + excluded.rows_total",
        (source, channel, now_ms, now_ms, data_ms, rows),
    )
    if symbols:
        await tx.executemany(
            "INSERT INTO ingestion_freshness (source, channel, symbol, last_data_ms) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (source, channel, symbol) DO UPDATE SET"
            " last_data_ms = max(ingestion_freshness.last_data_ms, excluded.last_data_ms)",
            [(source, channel, s, t) for s, t in symbols.items()],
        )


async def record_failure(
    tx: Transaction,
    source: str,
    channel: str,
    now_ms: int,
    error: str,
    *,
    decode: bool = False,
    count: int = 1,
) -> None:
    await tx.execute(
        "INSERT INTO ingestion_health (source, channel, last_attempt_ms, last_error, last_error_ms,"
        " consecutive_failures, errors_total, decode_errors_total) VALUES (?, ?, ?, ?, ?, 1, ?, ?)"
        " ON CONFLICT (source, channel) DO UPDATE SET last_attempt_ms = excluded.last_attempt_ms,"
        " last_error = excluded.last_error, last_error_ms = excluded.last_error_ms,"
        " consecutive_failures = ingestion_health.consecutive_failures + 1,"
        " errors_total = ingestion_health.errors_total + excluded.errors_total,"
        " decode_errors_total = ingestion_health.decode_errors_total + excluded.decode_errors_total",
        (
            source,
            channel,
            now_ms,
            error[:500],
            now_ms,
            0 if decode else count,
            count if decode else 0,
        ),
    )


async def health_counters(db: Database) -> list[HealthCounters]:
    cols = (
        "source",
        "channel",
        "last_attempt_ms",
        "last_success_ms",
        "last_data_ms",
        "last_error",
        "last_error_ms",
        "consecutive_failures",
        "rows_total",
        "errors_total",
        "decode_errors_total",
    )
    async with db.read() as r:
        rows = await r.fetchall(f"SELECT {', '.join(cols)} FROM ingestion_health")
    return [HealthCounters(**dict(zip(cols, row))) for row in rows]


async def freshness(db: Database) -> dict[tuple[str, str], dict[str, int]]:
    async with db.read() as r:
        rows = await r.fetchall(
            "SELECT source, channel, symbol, last_data_ms FROM ingestion_freshness"
        )
    out: dict[tuple[str, str], dict[str, int]] = {}
    for source, channel, symbol, t in rows:
        out.setdefault((source, channel), {})[symbol] = t
    return out


async def insert_snapshots(tx: Transaction, rows: Sequence[SnapshotRow]) -> int:
    await tx.executemany(
        "INSERT OR REPLACE INTO ingestion_snapshots (source, channel, t_ms, status, rows_total,"
        " errors_total, decode_errors_total, lag_ms, coverage) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                s.source,
                s.channel,
                s.t_ms,
                s.status,
                s.rows_total,
                s.errors_total,
                s.decode_errors_total,
                s.lag_ms,
                s.coverage,
            )
            for s in rows
        ],
    )
    return len(rows)


async def snapshots(db: Database, since_ms: int) -> list[SnapshotRow]:
    """Snapshots from `since_ms` on, oldest first."""
    async with db.read() as r:
        rows = await r.fetchall(
            "SELECT source, channel, t_ms, status, rows_total, errors_total, decode_errors_total,"
            " lag_ms, coverage FROM ingestion_snapshots WHERE t_ms >= ? ORDER BY t_ms",
            (since_ms,),
        )
    return [SnapshotRow(*row) for row in rows]


# ================================================================= retention


class Retained(msgspec.Struct, frozen=True):
    """A table under retention: its time column and the key that deletes one row."""

    table: str
    time_col: str
    keys: tuple[str, ...]


RETAINED: dict[str, Retained] = {
    t.table: t
    for t in (
        Retained("candles_1m", "t_ms", ("symbol", "t_ms")),
        Retained("candles_1m_revisions", "t_ms", ("symbol", "t_ms", "received_ms")),
        Retained("indicators_1m", "t_ms", ("symbol", "t_ms")),
        Retained("indicators_1m_revisions", "t_ms", ("symbol", "t_ms", "received_ms")),
        Retained("candles_1h", "t_ms", ("symbol", "t_ms")),
        Retained("candles_1h_revisions", "t_ms", ("symbol", "t_ms", "received_ms")),
        Retained("hl_funding", "t_ms", ("symbol", "t_ms")),
        Retained("hl_funding_history", "time_ms", ("symbol", "time_ms")),
        Retained("hl_profiles", "t_ms", ("symbol", "t_ms")),
        Retained("polymarket_summaries", "t_ms", ("t_ms", "kind", "symbol", "market_id")),
        Retained("macro_metrics", "observed_ms", ("scope", "subject", "metric", "observed_ms")),
        Retained("ingestion_snapshots", "t_ms", ("source", "channel", "t_ms")),
    )
}


async def expired(r: Session, table: str, cutoff_ms: int, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` rows of `table` stamped before `cutoff_ms`, oldest first, as column dicts."""
    spec = RETAINED[table]
    names = [n for (n,) in await r.fetchall(f"SELECT name FROM pragma_table_info('{spec.table}')")]
    rows = await r.fetchall(
        f"SELECT {', '.join(names)} FROM {spec.table} WHERE {spec.time_col} < ?"
        f" ORDER BY {spec.time_col} LIMIT ?",
        (cutoff_ms, limit),
    )
    return [dict(zip(names, row)) for row in rows]


async def delete_rows(tx: Transaction, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
    spec = RETAINED[table]
    where = " AND ".join(f"{k} = ?" for k in spec.keys)
    await tx.executemany(
        f"DELETE FROM {spec.table} WHERE {where}",
        [tuple(row[k] for k in spec.keys) for row in rows],
    )
    return len(rows)


async def row_counts(db: Database) -> dict[str, int]:
    async with db.read() as r:
        return {t: await r.fetchval(f"SELECT count(*) FROM {t}") for t in RETAINED}


async def inverted_candles(r: Reader) -> list[str]:
    """Store check: no candle whose open or close lies outside its low..high range."""
    problems = []
    for table in ("candles_1m", "candles_1h"):
        rows = await r.fetchall(
            f"SELECT symbol, t_ms FROM {table} WHERE l > h OR o > h OR o < l OR c > h OR c < l LIMIT 5"
        )
        problems += [
            f"{table} {symbol} at {t_ms}: open/close outside low..high" for symbol, t_ms in rows
        ]
    return problems


class MemoryReader:
    """The as-of reads other modules make of market memory (trading's context packets), one method
    per read function above."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def candles(
        self, symbol: str, interval: Interval, as_of_ms: int, limit: int
    ) -> list[Candle]:
        return await candles(self.db, symbol, interval, as_of_ms, limit)

    async def indicators(self, symbol: str, as_of_ms: int, limit: int) -> list[IndicatorRow]:
        return await indicators(self.db, symbol, as_of_ms, limit)

    async def funding(self, symbol: str, as_of_ms: int, limit: int) -> list[FundingRow]:
        return await funding(self.db, symbol, as_of_ms, limit)

    async def settled_funding(self, symbol: str, as_of_ms: int, limit: int) -> list[SettledFunding]:
        return await settled_funding(self.db, symbol, as_of_ms, limit)

    async def profile(self, symbol: str, as_of_ms: int) -> AssetProfile | None:
        return await profile(self.db, symbol, as_of_ms)

    async def polymarket_context(self, symbol: str | None, as_of_ms: int) -> PolymarketContext:
        return await polymarket_context(self.db, symbol, as_of_ms)

    async def macro_context(self, symbol: str | None, as_of_ms: int) -> list[MacroObservation]:
        return await macro_context(self.db, symbol, as_of_ms)

    async def latest_prices(
        self, symbols: Iterable[str], as_of_ms: int
    ) -> dict[str, tuple[Decimal, int]]:
        return await latest_prices(self.db, symbols, as_of_ms)
