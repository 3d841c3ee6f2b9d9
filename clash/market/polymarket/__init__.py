"""Polymarket Gamma source: wire types, client, and pure discovery/summary functions."""

from clash.market.retry import RetryPolicy

from .gamma import GAMMA_BASE_URL, GammaClient, PolymarketTarget
from .summary import (
    Discovery,
    MarketSummary,
    assets_of,
    discover,
    immediate_market,
    later_market,
    markets_for_asset,
    recently_closed,
    summarize,
    target_markets,
)
from .wire import DecodeError, Event, Market, SourceError

__all__ = [
    "GAMMA_BASE_URL",
    "GammaClient",
    "PolymarketTarget",
    "RetryPolicy",
    "Discovery",
    "MarketSummary",
    "assets_of",
    "discover",
    "immediate_market",
    "later_market",
    "markets_for_asset",
    "recently_closed",
    "summarize",
    "target_markets",
    "DecodeError",
    "Event",
    "Market",
    "SourceError",
]
