"""Macro metric math on small hand-made inputs with known answers."""

import pytest

from clash.market.defillama.metrics import (
    CHAIN_SYMBOLS,
    MacroMetric,
    MacroTarget,
    chain_stablecoin_supplies,
    chain_symbol_table,
    chain_tvls,
    change_over,
    global_tvl,
    linked_symbol,
    protocol_flows,
    protocol_throughput,
    protocol_tvls,
    rows_for_asset,
    rows_for_target,
    stablecoin_chart_flows,
    stablecoin_flows,
    stablecoin_supplies,
    throughput,
    tvl_flows,
)
from clash.market.defillama.wire import (
    Chain,
    DimensionOverview,
    DimensionProtocol,
    PeggedAsset,
    Protocol,
    StablecoinChain,
    StablecoinChartPoint,
    TvlPoint,
)

D = 86_400
T0 = 1_700_006_400  # a UTC midnight
AS_OF = 1_773_307_350_000
M = 1_000_000  # micro-dollars per dollar


def test_capital_base_tvl_global_and_per_chain():
    chains = [
        Chain("Solana", 100.5),
        Chain("Ethereum", 200.25),
        Chain("Evmos", 0.000001, chain_id="9001"),
    ]
    assert global_tvl(chains, AS_OF) == MacroMetric(
        "capital_base", "global", "all", "tvl", 300_750_001, AS_OF
    )
    rows = chain_tvls(chains, AS_OF)
    assert [(r.subject, r.usd_micros) for r in rows] == [
        ("Ethereum", 200_250_000),
        ("Solana", 100_500_000),
        ("Evmos", 1),
    ]
    assert [r.subject for r in chain_tvls(chains, AS_OF, ["solana"])] == ["Solana"]


def test_micro_dollars_exact_for_large_floats():
    (row,) = chain_tvls([Chain("Ethereum", 52875523609.47606)], AS_OF)
    assert row.usd_micros == 52_875_523_609_476_060


def test_change_over_picks_latest_point_at_or_before_horizon():
    series = [(T0 + d * D, v * M) for d, v in enumerate([100, 90, 95, 100, 100, 100, 120, 150])]
    assert change_over(series, D) == (30 * M, 25.0)
    assert change_over(series, 7 * D) == (50 * M, 50.0)
    gappy = [(T0, 100 * M), (T0 + 3 * D, 120 * M), (T0 + 7 * D, 90 * M)]
    assert change_over(gappy, D) == (-30 * M, -25.0)  # base is day 3, the latest ≤ day 6
    assert change_over(list(reversed(gappy)), 7 * D) == (-10 * M, -10.0)
    assert change_over(gappy[:1], D) is None and change_over([], D) is None
    assert change_over([(T0, 0), (T0 + D, 5 * M)], D) == (5 * M, None)


def test_tvl_flows_rows():
    points = [TvlPoint(T0 + d * D, v) for d, v in enumerate([100, 90, 95, 100, 100, 100, 120, 150])]
    rows = tvl_flows(points, "chain", "Ethereum")
    assert rows == [
        MacroMetric(
            "capital_flows", "chain", "Ethereum", "tvl_change_1d", 30 * M, (T0 + 7 * D) * 1000, 25.0
        ),
        MacroMetric(
            "capital_flows", "chain", "Ethereum", "tvl_change_7d", 50 * M, (T0 + 7 * D) * 1000, 50.0
        ),
    ]
    assert [r.metric for r in tvl_flows(points[-3:])] == ["tvl_change_1d"]  # too short for 7d
    assert tvl_flows([]) == []


def _coin(
    symbol: str, now: float, day: float | None, week: float | None, peg: str = "peggedUSD"
) -> PeggedAsset:
    return PeggedAsset(
        id=symbol,
        name=symbol,
        symbol=symbol,
        peg_type=peg,
        circulating={peg: now},
        circulating_prev_day={} if day is None else {peg: day},
        circulating_prev_week={} if week is None else {peg: week},
    )


COINS = [
    _coin("USDT", 1000, 900, 800),
    _coin("USDC", 500, 500, 400),
    _coin("EURC", 70, 10, 10, peg="peggedEUR"),  # not USD: left out of USD sums
    _coin("NEW", 5, None, None),
]


def test_stablecoin_supply_levels():
    rows = stablecoin_supplies(COINS, AS_OF)
    assert [(r.scope, r.subject, r.usd_micros) for r in rows] == [
        ("global", "all", 1505 * M),
        ("stablecoin", "USDT", 1000 * M),
        ("stablecoin", "USDC", 500 * M),
        ("stablecoin", "NEW", 5 * M),
    ]


def test_stablecoin_flows_1d_7d():
    rows = {(r.subject, r.metric): r for r in stablecoin_flows(COINS, AS_OF)}
    g1 = rows[("all", "stablecoin_supply_change_1d")]
    assert g1.usd_micros == 100 * M and g1.change_pct == pytest.approx(100 / 1400 * 100)
    g7 = rows[("all", "stablecoin_supply_change_7d")]
    assert g7.usd_micros == 300 * M and g7.change_pct == 25.0
    assert rows[("USDT", "stablecoin_supply_change_1d")].usd_micros == 100 * M
    assert rows[("USDC", "stablecoin_supply_change_1d")].change_pct == 0.0
    assert rows[("USDC", "stablecoin_supply_change_7d")].change_pct == 25.0
    assert not any(s in ("EURC", "NEW") for s, _ in rows)


def test_stablecoin_chart_flows_prefer_usd_amounts():
    points = [
        StablecoinChartPoint(
            date=str(T0),
            total_circulating={"peggedUSD": 10},
            total_circulating_usd={"peggedUSD": 100},
        ),
        StablecoinChartPoint(date=T0 + D, total_circulating={"peggedUSD": 12}),
    ]
    (row,) = stablecoin_chart_flows(points, "chain", "Tron")
    assert (row.metric, row.usd_micros, row.change_pct) == (
        "stablecoin_supply_change_1d",
        -88 * M,
        -88.0,
    )


def test_chain_stablecoin_supply():
    chains = [
        StablecoinChain("Tron", total_circulating_usd={"peggedUSD": 60.5, "peggedEUR": 1}),
        StablecoinChain("Ethereum", total_circulating={"peggedUSD": 70}),
        StablecoinChain("Nowhere"),
    ]
    rows = chain_stablecoin_supplies(chains, AS_OF)
    assert [(r.subject, r.usd_micros) for r in rows] == [("Ethereum", 70 * M), ("Tron", 60_500_000)]


def test_protocol_tvl_and_flows_from_percent_changes():
    protos = [
        Protocol(id="1", name="Lido", slug="lido", tvl=110, change_1d=10, change_7d=-50),
        Protocol(id="2", name="Gone", tvl=None, change_1d=1),
        Protocol(id="3", name="Aave V3", slug="aave-v3", tvl=5, change_1d=None, change_7d=-100),
    ]
    assert [(r.subject, r.usd_micros) for r in protocol_tvls(protos, AS_OF)] == [
        ("Lido", 110 * M),
        ("Aave V3", 5 * M),
    ]
    assert [r.subject for r in protocol_tvls(protos, AS_OF, ["aave-v3"])] == ["Aave V3"]
    rows = protocol_flows(protos, AS_OF)
    assert [(r.subject, r.metric, r.usd_micros, r.change_pct) for r in rows] == [
        ("Lido", "tvl_change_1d", 10 * M, 10),  # prior 100
        ("Lido", "tvl_change_7d", -110 * M, -50),  # prior 220
    ]


OVERVIEW = DimensionOverview(
    total24h=1.5,
    total7d=10,
    total30d=None,
    change_1d=5.2,
    protocols=[
        DimensionProtocol(
            name="Hyperliquid Perps",
            display_name="Hyperliquid Perps",
            total24h=1.0,
            total7d=6.0,
            change_1d=-1.0,
        ),
        DimensionProtocol(name="uniswap-v3", display_name="Uniswap V3", total24h=0.5, total7d=None),
    ],
)


def test_throughput_totals_and_protocol_rows():
    rows = throughput(OVERVIEW, "dex_volume", AS_OF)
    assert [(r.metric, r.usd_micros, r.change_pct) for r in rows] == [
        ("dex_volume_24h", 1_500_000, 5.2),
        ("dex_volume_7d", 10 * M, None),
    ]
    assert all(r.family == "economic_throughput" and r.scope == "global" for r in rows)
    chain_rows = throughput(OVERVIEW, "fees", AS_OF, "chain", "Ethereum")
    assert {(r.scope, r.subject) for r in chain_rows} == {("chain", "Ethereum")}
    (oi,) = throughput(OVERVIEW, "open_interest", AS_OF)
    assert (oi.metric, oi.usd_micros, oi.change_pct) == ("open_interest", 1_500_000, 5.2)
    prows = protocol_throughput(OVERVIEW, "revenue", AS_OF, ["uniswap v3"])
    assert [(r.subject, r.metric, r.usd_micros) for r in prows] == [
        ("uniswap-v3", "revenue_24h", 500_000)
    ]
    assert throughput(DimensionOverview(), "fees", AS_OF) == []


def test_linking_rows_to_assets():
    chains = [
        Chain("Ethereum", 1),
        Chain("Foochain", 1, token_symbol="FOO"),
        Chain("Polygon", 1, token_symbol="MATIC"),
    ]
    table = chain_symbol_table(chains)
    assert (
        table["Foochain"] == "FOO"
        and table["Ethereum"] == "ETH"
        and table["Hyperliquid L1"] == "HYPE"
    )
    assert CHAIN_SYMBOLS["Solana"] == "SOL" and CHAIN_SYMBOLS["Hyperliquid"] == "HYPE"
    rows = [
        MacroMetric("capital_base", "global", "all", "tvl", 1, AS_OF),
        MacroMetric("capital_base", "chain", "Ethereum", "tvl", 2, AS_OF),
        MacroMetric("capital_base", "chain", "Solana", "tvl", 3, AS_OF),
        MacroMetric("capital_base", "chain", "Hyperliquid L1", "tvl", 4, AS_OF),
        MacroMetric("capital_base", "chain", "Foochain", "tvl", 5, AS_OF),
        MacroMetric("capital_base", "protocol", "Lido", "tvl", 6, AS_OF),
        MacroMetric("capital_base", "protocol", "Hyperliquid Perps", "open_interest", 7, AS_OF),
        MacroMetric("capital_base", "stablecoin", "USDT", "stablecoin_supply", 8, AS_OF),
    ]
    assert [r.usd_micros for r in rows_for_asset(rows, "ETH")] == [1, 2]
    assert [r.usd_micros for r in rows_for_asset(rows, "SOL")] == [1, 3]
    assert [r.usd_micros for r in rows_for_asset(rows, "HYPE")] == [1, 4, 7]
    assert [r.usd_micros for r in rows_for_asset(rows, "LDO")] == [1, 6]
    assert [r.usd_micros for r in rows_for_asset(rows, "FOO")] == [1]
    assert [r.usd_micros for r in rows_for_asset(rows, "FOO", table)] == [1, 5]
    assert [r.usd_micros for r in rows_for_asset(rows, "BTC")] == [1]
    assert linked_symbol(rows[0]) is None and linked_symbol(rows[7]) == "USDT"


def test_rows_for_target():
    rows = [
        MacroMetric("capital_base", "global", "all", "tvl", 1, AS_OF),
        MacroMetric("capital_base", "chain", "Ethereum", "tvl", 2, AS_OF),
        MacroMetric("capital_base", "chain", "Solana", "tvl", 3, AS_OF),
    ]
    assert [r.usd_micros for r in rows_for_target(rows, MacroTarget())] == [1]
    assert [r.usd_micros for r in rows_for_target(rows, MacroTarget("chain", "ethereum"))] == [2]
    assert rows_for_target(rows, MacroTarget("protocol", "Ethereum")) == []
