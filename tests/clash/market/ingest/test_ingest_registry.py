"""The asset registry from meta/spotMeta, pure."""

from __future__ import annotations

import math

from clash.market.hyperliquid import wire
from clash.market.registry import AssetStats, build_registry, spot_stats, trending_symbols
from clash.market.taxonomy import UNMAPPED

META = wire.Meta(
    universe=[
        wire.PerpAsset(name="BTC", szDecimals=5, maxLeverage=40),
        wire.PerpAsset(name="OLD", szDecimals=1, maxLeverage=3, isDelisted=True),
        wire.PerpAsset(name="ISO", szDecimals=0, maxLeverage=5, onlyIsolated=True),
        wire.PerpAsset(name="STRICT", szDecimals=0, maxLeverage=5, marginMode="strictIsolated"),
    ]
)
SPOT = wire.SpotMeta(
    universe=[
        wire.SpotPair(tokens=(1, 0), name="PURR/USDC", index=0, isCanonical=True),
        wire.SpotPair(tokens=(150, 0), name="@107", index=107, isCanonical=False),
        wire.SpotPair(tokens=(999, 0), name="@5", index=5, isCanonical=False),
    ],
    tokens=[
        wire.SpotToken(
            name="USDC", szDecimals=8, weiDecimals=8, index=0, tokenId="0x0", isCanonical=True
        ),
        wire.SpotToken(
            name="PURR", szDecimals=0, weiDecimals=5, index=1, tokenId="0x1", isCanonical=True
        ),
        wire.SpotToken(
            name="HYPE", szDecimals=2, weiDecimals=8, index=150, tokenId="0x2", isCanonical=False
        ),
    ],
)


def test_perps_and_spot_with_capabilities() -> None:
    assets = {a.symbol: a for a in build_registry(META, SPOT, ["BTC", "OLD", "HYPE/USDC", "@5"])}
    btc = assets["BTC"]
    assert (btc.kind, btc.asset_index, btc.sz_decimals, btc.max_leverage, btc.enabled) == (
        "perp",
        0,
        5,
        40,
        True,
    )
    assert (
        btc.supports("funding")
        and btc.supports("profiles")
        and btc.categories[:2] == ("Perps", "Crypto")
    )
    assert assets["OLD"].delisted and not assets["OLD"].enabled  # a delisted perp is never enabled
    assert assets["ISO"].only_isolated and assets["STRICT"].only_isolated and not btc.only_isolated
    assert assets["ISO"].categories == ("Perps", "Crypto", UNMAPPED)  # unmapped stays visible

    hype = assets["HYPE/USDC"]
    assert (hype.coin, hype.asset_index, hype.is_spot, hype.max_leverage, hype.sz_decimals) == (
        "@107",
        10107,
        True,
        1,
        2,
    )
    assert hype.enabled and not hype.supports("funding") and hype.supports("candles_1m")
    assert hype.categories == ("Spot", "Spot/USDC")
    assert assets["PURR/USDC"].coin == "PURR/USDC" and not assets["PURR/USDC"].enabled
    assert assets["@5"].enabled and assets["@5"].base is None  # unknown token: keeps its wire name


def test_spot_stats_and_trending() -> None:
    ctxs = [
        wire.SpotAssetCtx(
            coin="@107",
            prevDayPx="40.0",
            dayNtlVlm="5000000.0",
            markPx="44.0",
            circulatingSupply="1",
            totalSupply="1",
            dayBaseVlm="1",
        ),
        wire.SpotAssetCtx(
            coin="@999",
            prevDayPx="1",
            dayNtlVlm="1",
            markPx="1",
            circulatingSupply="1",
            totalSupply="1",
            dayBaseVlm="1",
        ),
    ]
    stats = spot_stats((SPOT, ctxs), {"@107": "HYPE/USDC"}, 7)
    assert stats == [AssetStats("HYPE/USDC", 5e6, 40.0, 44.0, 7)]
    assert math.isclose(stats[0].change_24h, 0.1)
    rows = [*stats, AssetStats("BTC", 1e9, 100.0, 101.0, 7), AssetStats("THIN", 10.0, 1.0, 2.0, 7)]
    assert trending_symbols(rows, 2) == ["HYPE/USDC", "BTC"]
