"""Market: ingestion of Hyperliquid, Polymarket and DefiLlama data into market memory, and the
offline simulator that serves the same APIs.

The contract: other modules read market memory only through `MarketModule` (candles, indicators,
funding, profiles, Polymarket and macro context, the asset registry and its picker listings,
ingestion health) or the as-of `MemoryReader`, and get back the value types below. The asset taxonomy (`CATEGORIES`,
`categorize`, `select`), the DefiLlama symbol tables and the candle time grid (`MINUTE_MS`,
`HOUR_MS`, `DAY_MS`) are shared pure data. `sim_universe` names the simulator's symbols without
starting it (the clone catalog uses it before the market is up). `add_ingest_commands` is the
`clash ingest` CLI. Source clients, wire types, actors and tables are private to the package.
"""

from typing import TYPE_CHECKING, Any

from clash.market.actors.health import ChannelSeries, Dashboard, DashboardPoint
from clash.market.candles import DAY_MS, HOUR_MS, MINUTE_MS, Candle
from clash.market.config import MarketConfig
from clash.market.defillama.metrics import CHAIN_SYMBOLS, PROTOCOL_SYMBOLS
from clash.market.errors import DecodeError, SourceError
from clash.market.health import ChannelHealth, IngestionHealth, SourceHealth
from clash.market.listing import (
    FILTER_CATEGORIES,
    AssetListing,
    AssetPage,
    Capabilities,
    CategoryCount,
    CategoryTree,
    UnmappedBucket,
)
from clash.market.memory import (
    AssetProfile,
    FundingRow,
    IndicatorRow,
    Interval,
    LiquidityProfile,
    MacroObservation,
    MemoryReader,
    PolymarketContext,
    PolymarketRow,
    PositioningProfile,
    SettledFunding,
    VolatilityProfile,
)
from clash.market.module import MarketModule
from clash.market.polymarket.summary import MarketSummary
from clash.market.registry import AssetInfo
from clash.market.sim.market import SimAsset, sim_universe
from clash.market.taxonomy import CATEGORIES, categorize, select

if TYPE_CHECKING:
    from clash.market.cli import add_ingest_commands


def __getattr__(name: str) -> Any:
    # The CLI needs the composition root (config, runtime), which imports this package first.
    if name == "add_ingest_commands":
        from clash.market.cli import add_ingest_commands

        return add_ingest_commands
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CATEGORIES",
    "CHAIN_SYMBOLS",
    "FILTER_CATEGORIES",
    "DAY_MS",
    "HOUR_MS",
    "MINUTE_MS",
    "PROTOCOL_SYMBOLS",
    "AssetInfo",
    "AssetListing",
    "AssetPage",
    "AssetProfile",
    "Candle",
    "Capabilities",
    "CategoryCount",
    "CategoryTree",
    "ChannelHealth",
    "ChannelSeries",
    "Dashboard",
    "DashboardPoint",
    "DecodeError",
    "FundingRow",
    "IndicatorRow",
    "IngestionHealth",
    "Interval",
    "LiquidityProfile",
    "MacroObservation",
    "MarketConfig",
    "MarketModule",
    "MarketSummary",
    "MemoryReader",
    "PolymarketContext",
    "PolymarketRow",
    "PositioningProfile",
    "SettledFunding",
    "SimAsset",
    "SourceError",
    "SourceHealth",
    "UnmappedBucket",
    "VolatilityProfile",
    "add_ingest_commands",
    "categorize",
    "select",
    "sim_universe",
]
