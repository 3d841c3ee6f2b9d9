"""The AssetCatalog adapters: the market registry's entries, the simulator universe, the runtime default."""

import pytest

from clash.clones.catalog import MarketCatalog, sim_catalog
from clash.market.registry import PERP_CHANNELS, SPOT_CHANNELS, AssetInfo

pytestmark = pytest.mark.anyio


def registry_entries():
    return [
        AssetInfo(
            symbol="BTC",
            coin="BTC",
            kind="perp",
            asset_index=0,
            sz_decimals=5,
            max_leverage=40,
            is_spot=False,
            enabled=True,
            channels=PERP_CHANNELS,
        ),
        AssetInfo(
            symbol="HYPE/USDC",
            coin="@107",
            kind="spot",
            asset_index=10107,
            sz_decimals=2,
            max_leverage=1,
            is_spot=True,
            enabled=True,
            channels=SPOT_CHANNELS,
        ),
        AssetInfo(
            symbol="OLD",
            coin="OLD",
            kind="perp",
            asset_index=1,
            sz_decimals=0,
            max_leverage=3,
            is_spot=False,
            enabled=False,
            delisted=True,
            channels=PERP_CHANNELS,
        ),
    ]


async def test_registry_channels_map_onto_capabilities():
    async def asset_specs():
        return registry_entries()

    assets = await MarketCatalog(asset_specs).assets()
    assert assets["BTC"].channels == {
        "candles",
        "indicators",
        "mids",
        "funding",
        "profiles",
        "polymarket",
        "defillama",
    }
    assert not assets["HYPE/USDC"].supports("funding") and assets["HYPE/USDC"].supports("candles")
    assert assets["OLD"].delisted and not assets["OLD"].tradable


async def test_a_symbol_keyed_sync_source_works_too():
    assets = await MarketCatalog(lambda: {a.symbol: a for a in registry_entries()}).assets()
    assert sorted(assets) == ["BTC", "HYPE/USDC", "OLD"]


async def test_the_simulator_universe_names_spot_pairs_like_the_registry():
    assets = await sim_catalog(7, ["BTC", "HYPE/USDC"]).assets()
    assert assets["BTC"].enabled and not assets["ETH"].enabled
    assert assets["HYPE/USDC"].is_spot and assets["HYPE/USDC"].enabled and "@107" not in assets
