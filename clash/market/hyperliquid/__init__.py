"""Hyperliquid source: wire types, REST `/info` client and WebSocket stream."""

from clash.market.hyperliquid.rest import HyperliquidRest, WeightBudget
from clash.market.hyperliquid.wire import DecodeError, HlCandle, SourceError
from clash.market.hyperliquid.ws import HyperliquidStream, Mids, Reconnected

__all__ = [
    "DecodeError",
    "HlCandle",
    "HyperliquidRest",
    "HyperliquidStream",
    "Mids",
    "Reconnected",
    "SourceError",
    "WeightBudget",
]
