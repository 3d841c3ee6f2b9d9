"""Pure macro metrics over decoded DefiLlama payloads.

Three families, each scoped global / chain / protocol / stablecoin:
- capital base: TVL levels and stablecoin supply;
- capital flows: TVL and stablecoin-supply changes over 1d and 7d;
- economic throughput: DEX volume, fees, revenue and open interest from the dimension overviews.

Amounts are integer micro-USD (converted exactly from the JSON floats' shortest repr), so sums
and deltas are exact; relative changes are float percent. `as_of_ms` is epoch ms, taken from the
data when it carries a date, else from the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import msgspec

from clash.market.polymarket.wire import usd_to_micros

from .wire import (
    Chain,
    DimensionOverview,
    PeggedAsset,
    Protocol,
    StablecoinChain,
    StablecoinChartPoint,
    TvlPoint,
    date_s,
)

__all__ = [
    "Family",
    "Scope",
    "Throughput",
    "GLOBAL",
    "MacroMetric",
    "MacroTarget",
    "rows_for_target",
    "change_over",
    "global_tvl",
    "chain_tvls",
    "protocol_tvls",
    "stablecoin_supplies",
    "chain_stablecoin_supplies",
    "tvl_flows",
    "protocol_flows",
    "stablecoin_flows",
    "stablecoin_chart_flows",
    "throughput",
    "protocol_throughput",
    "CHAIN_SYMBOLS",
    "PROTOCOL_SYMBOLS",
    "chain_symbol_table",
    "linked_symbol",
    "rows_for_asset",
]

Family = Literal["capital_base", "capital_flows", "economic_throughput"]
Scope = Literal["global", "chain", "protocol", "stablecoin"]
Throughput = Literal["dex_volume", "fees", "revenue", "holders_revenue", "open_interest"]

GLOBAL = "all"
DAY_S = 86_400
HORIZONS: tuple[tuple[str, int], ...] = (("1d", DAY_S), ("7d", 7 * DAY_S))
_PEG = "peggedUSD"


class MacroMetric(msgspec.Struct, frozen=True):
    """One macro observation: `usd_micros` is a level, or the delta for a `*_change_*` metric."""

    family: Family
    scope: Scope
    subject: str
    metric: str
    usd_micros: int
    as_of_ms: int
    change_pct: float | None = None


class MacroTarget(msgspec.Struct, frozen=True):
    """A DefiLlama data-stream block's macro scope: global, or one chain/protocol/stablecoin
    named as DefiLlama spells it (`Ethereum`, `Lido`, `USDT`)."""

    scope: Scope = "global"
    subject: str = GLOBAL


def rows_for_target(rows: Iterable[MacroMetric], target: MacroTarget) -> list[MacroMetric]:
    if target.scope == "global":
        return [r for r in rows if r.scope == "global"]
    key = target.subject.casefold()
    return [r for r in rows if r.scope == target.scope and r.subject.casefold() == key]


def _pct(delta: int, base: int) -> float | None:
    return None if base == 0 else delta * 100 / base


def change_over(
    series: Sequence[tuple[int, int]], horizon_s: int
) -> tuple[int, float | None] | None:
    """(delta, pct) from the last point of a `(unix_s, micros)` series back to the latest point
    at or before `last - horizon`; None when the series is too short."""
    if not series:
        return None
    ordered = sorted(series)
    t_last, v_last = ordered[-1]
    base = [v for t, v in ordered if t <= t_last - horizon_s]
    if not base:
        return None
    return v_last - base[-1], _pct(v_last - base[-1], base[-1])


# ---------------------------------------------------------------- capital base


def global_tvl(chains: Iterable[Chain], as_of_ms: int) -> MacroMetric:
    total = sum(usd_to_micros(c.tvl) for c in chains)
    return MacroMetric("capital_base", "global", GLOBAL, "tvl", total, as_of_ms)


def chain_tvls(
    chains: Iterable[Chain], as_of_ms: int, names: Iterable[str] | None = None
) -> list[MacroMetric]:
    """Per-chain TVL, largest first; `names` restricts to those chains (case-insensitive)."""
    wanted = None if names is None else {n.casefold() for n in names}
    rows = [
        MacroMetric("capital_base", "chain", c.name, "tvl", usd_to_micros(c.tvl), as_of_ms)
        for c in chains
        if wanted is None or c.name.casefold() in wanted
    ]
    return sorted(rows, key=lambda r: (-r.usd_micros, r.subject))


def _pick_protocols(protocols: Iterable[Protocol], names: Iterable[str] | None) -> list[Protocol]:
    if names is None:
        return list(protocols)
    wanted = {n.casefold() for n in names}
    return [
        p for p in protocols if p.name.casefold() in wanted or (p.slug or "").casefold() in wanted
    ]


def protocol_tvls(
    protocols: Iterable[Protocol], as_of_ms: int, names: Iterable[str] | None = None
) -> list[MacroMetric]:
    return [
        MacroMetric("capital_base", "protocol", p.name, "tvl", usd_to_micros(p.tvl), as_of_ms)
        for p in _pick_protocols(protocols, names)
        if p.tvl is not None
    ]


def _usd_pegged(assets: Iterable[PeggedAsset]) -> list[PeggedAsset]:
    """Only USD-pegged coins are summed: other pegs would need an FX rate we do not ingest."""
    return [a for a in assets if a.peg_type == _PEG and _PEG in a.circulating]


def stablecoin_supplies(assets: Iterable[PeggedAsset], as_of_ms: int) -> list[MacroMetric]:
    """Global USD-stablecoin supply, then each coin's, largest first."""
    usd = _usd_pegged(assets)
    rows = sorted(
        (
            MacroMetric(
                "capital_base",
                "stablecoin",
                a.symbol,
                "stablecoin_supply",
                usd_to_micros(a.circulating[_PEG]),
                as_of_ms,
            )
            for a in usd
        ),
        key=lambda r: (-r.usd_micros, r.subject),
    )
    total = sum(r.usd_micros for r in rows)
    return [
        MacroMetric("capital_base", "global", GLOBAL, "stablecoin_supply", total, as_of_ms),
        *rows,
    ]


def chain_stablecoin_supplies(
    chains: Iterable[StablecoinChain], as_of_ms: int, names: Iterable[str] | None = None
) -> list[MacroMetric]:
    """USD-pegged stablecoin supply on each chain, from `/stablecoinchains`."""
    wanted = None if names is None else {n.casefold() for n in names}
    rows = []
    for c in chains:
        amount = c.total_circulating_usd.get(_PEG, c.total_circulating.get(_PEG))
        if amount is not None and (wanted is None or c.name.casefold() in wanted):
            rows.append(
                MacroMetric(
                    "capital_base",
                    "chain",
                    c.name,
                    "stablecoin_supply",
                    usd_to_micros(amount),
                    as_of_ms,
                )
            )
    return sorted(rows, key=lambda r: (-r.usd_micros, r.subject))


# ---------------------------------------------------------------- capital flows


def _flow_rows(
    series: Sequence[tuple[int, int]], scope: Scope, subject: str, metric: str
) -> list[MacroMetric]:
    if not series:
        return []
    as_of_ms = max(t for t, _ in series) * 1000
    rows = []
    for label, horizon in HORIZONS:
        got = change_over(series, horizon)
        if got is not None:
            delta, pct = got
            rows.append(
                MacroMetric(
                    "capital_flows",
                    scope,
                    subject,
                    f"{metric}_change_{label}",
                    delta,
                    as_of_ms,
                    pct,
                )
            )
    return rows


def tvl_flows(
    points: Iterable[TvlPoint], scope: Scope = "global", subject: str = GLOBAL
) -> list[MacroMetric]:
    """TVL change over 1d/7d from a `/v2/historicalChainTvl[/{chain}]` series."""
    return _flow_rows([(p.date, usd_to_micros(p.tvl)) for p in points], scope, subject, "tvl")


def stablecoin_chart_flows(
    points: Iterable[StablecoinChartPoint], scope: Scope = "global", subject: str = GLOBAL
) -> list[MacroMetric]:
    """USD-stablecoin supply change over 1d/7d from a `/stablecoincharts/...` series."""
    series = []
    for p in points:
        amount = p.total_circulating_usd.get(_PEG, p.total_circulating.get(_PEG))
        if amount is not None:
            series.append((date_s(p), usd_to_micros(amount)))
    return _flow_rows(series, scope, subject, "stablecoin_supply")


def stablecoin_flows(assets: Iterable[PeggedAsset], as_of_ms: int) -> list[MacroMetric]:
    """Supply change vs `circulatingPrevDay`/`PrevWeek`, globally and per USD-pegged coin."""
    usd = _usd_pegged(assets)
    rows: list[MacroMetric] = []
    for label, prev_of in (
        ("1d", lambda a: a.circulating_prev_day),
        ("7d", lambda a: a.circulating_prev_week),
    ):
        metric = f"stablecoin_supply_change_{label}"
        now_total = prev_total = 0
        per_coin = []
        for a in usd:
            prev = prev_of(a).get(_PEG)
            if prev is None:
                continue
            cur_m, prev_m = usd_to_micros(a.circulating[_PEG]), usd_to_micros(prev)
            now_total += cur_m
            prev_total += prev_m
            per_coin.append(
                MacroMetric(
                    "capital_flows",
                    "stablecoin",
                    a.symbol,
                    metric,
                    cur_m - prev_m,
                    as_of_ms,
                    _pct(cur_m - prev_m, prev_m),
                )
            )
        if per_coin:
            delta = now_total - prev_total
            rows.append(
                MacroMetric(
                    "capital_flows",
                    "global",
                    GLOBAL,
                    metric,
                    delta,
                    as_of_ms,
                    _pct(delta, prev_total),
                )
            )
            rows.extend(sorted(per_coin, key=lambda r: r.subject))
    return rows


def protocol_flows(
    protocols: Iterable[Protocol], as_of_ms: int, names: Iterable[str] | None = None
) -> list[MacroMetric]:
    """TVL change of protocols from `/protocols` `change_1d`/`change_7d` (percent): the
    prior level is `tvl / (1 + pct/100)`, so the delta is in USD like the chain flows."""
    rows = []
    for p in _pick_protocols(protocols, names):
        if p.tvl is None:
            continue
        now_m = usd_to_micros(p.tvl)
        for label, pct in (("1d", p.change_1d), ("7d", p.change_7d)):
            if pct is None or pct <= -100:
                continue
            prior = round(now_m * 100 / (100 + pct))
            rows.append(
                MacroMetric(
                    "capital_flows",
                    "protocol",
                    p.name,
                    f"tvl_change_{label}",
                    now_m - prior,
                    as_of_ms,
                    pct,
                )
            )
    return rows


# ---------------------------------------------------------------- economic throughput


def _throughput_rows(
    kind: Throughput,
    scope: Scope,
    subject: str,
    as_of_ms: int,
    total24h: float | None,
    total7d: float | None,
    total30d: float | None,
    change_1d: float | None,
) -> list[MacroMetric]:
    if kind == "open_interest":
        # The open-interest overview's daily value is the OI level, so 7d/30d sums mean nothing.
        if total24h is None:
            return []
        return [
            MacroMetric(
                "economic_throughput",
                scope,
                subject,
                "open_interest",
                usd_to_micros(total24h),
                as_of_ms,
                change_1d,
            )
        ]
    rows = []
    windows = (("24h", total24h, change_1d), ("7d", total7d, None), ("30d", total30d, None))
    for label, value, change in windows:
        if value is not None:
            rows.append(
                MacroMetric(
                    "economic_throughput",
                    scope,
                    subject,
                    f"{kind}_{label}",
                    usd_to_micros(value),
                    as_of_ms,
                    change,
                )
            )
    return rows


def throughput(
    overview: DimensionOverview,
    kind: Throughput,
    as_of_ms: int,
    scope: Scope = "global",
    subject: str = GLOBAL,
) -> list[MacroMetric]:
    """Totals of one overview (`/overview/dexs` → dex_volume, `/overview/fees` → fees, with
    `dataType=dailyRevenue` → revenue, `/overview/open-interest` → open_interest). For a
    `/overview/{kind}/{chain}` answer pass `scope="chain"` and the chain name."""
    return _throughput_rows(
        kind,
        scope,
        subject,
        as_of_ms,
        overview.total24h,
        overview.total7d,
        overview.total30d,
        overview.change_1d,
    )


def protocol_throughput(
    overview: DimensionOverview, kind: Throughput, as_of_ms: int, names: Iterable[str]
) -> list[MacroMetric]:
    """Rows for the named protocols (matched on `name` or `displayName`, case-insensitive)."""
    wanted = {n.casefold() for n in names}
    rows = []
    for p in overview.protocols:
        if p.name.casefold() in wanted or (p.display_name or "").casefold() in wanted:
            rows += _throughput_rows(
                kind, "protocol", p.name, as_of_ms, p.total24h, p.total7d, p.total30d, p.change_1d
            )
    return rows


# ---------------------------------------------------------------- linking to traded assets

# DefiLlama subject → Hyperliquid perp symbol. Only pairs both sides of which are on record:
# chain names as spelled in `/v2/chains` `name` (fixtures/real/defillama/chains_2022-09.json) or
# in the spec's `/overview/open-interest` examples ("Hyperliquid L1", protocol "Hyperliquid
# Perps"); symbols as listed in Hyperliquid `meta` (fixtures/real/hyperliquid/meta_2023-07-17.json
# and metaAndAssetCtxs_trimmed_2026-09-27.json). "Hyperliquid" (chain and protocol) is the
# brief's own example. Other chains fall back to their `/v2/chains` `tokenSymbol`.
CHAIN_SYMBOLS: dict[str, str] = {
    "Bitcoin": "BTC",
    "Ethereum": "ETH",
    "Solana": "SOL",
    "Hyperliquid": "HYPE",
    "Hyperliquid L1": "HYPE",
    "BSC": "BNB",
    "Avalanche": "AVAX",
    "Arbitrum": "ARB",
    "Optimism": "OP",
    "Cosmos": "ATOM",
    "Doge": "DOGE",
    "Litecoin": "LTC",
    "Fantom": "FTM",
}

PROTOCOL_SYMBOLS: dict[str, str] = {
    "Hyperliquid": "HYPE",
    "Hyperliquid Perps": "HYPE",
    "Lido": "LDO",
    "GMX": "GMX",
}


def chain_symbol_table(chains: Iterable[Chain]) -> dict[str, str]:
    """The explicit table, widened by each chain's own `tokenSymbol` where it has one."""
    table = {c.name: c.token_symbol for c in chains if c.token_symbol}
    table.update(CHAIN_SYMBOLS)
    return table


def linked_symbol(
    row: MacroMetric,
    chain_symbols: Mapping[str, str] = CHAIN_SYMBOLS,
    protocol_symbols: Mapping[str, str] = PROTOCOL_SYMBOLS,
) -> str | None:
    """The traded symbol a row speaks about, or None (global rows belong to every asset)."""
    if row.scope == "chain":
        return chain_symbols.get(row.subject)
    if row.scope == "protocol":
        return protocol_symbols.get(row.subject)
    if row.scope == "stablecoin":
        return row.subject
    return None


def rows_for_asset(
    rows: Iterable[MacroMetric],
    symbol: str,
    chain_symbols: Mapping[str, str] = CHAIN_SYMBOLS,
    protocol_symbols: Mapping[str, str] = PROTOCOL_SYMBOLS,
) -> list[MacroMetric]:
    """Global rows plus the rows whose subject links to `symbol` (seed 004's macro rule)."""
    return [
        r
        for r in rows
        if r.scope == "global" or linked_symbol(r, chain_symbols, protocol_symbols) == symbol
    ]
