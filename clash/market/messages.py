"""Messages of the market actors. Timers send the poll messages; the stream pump sends `HlStream*`.

Every poll message is also an `ask`: the reply is a `MarketPollResult` (the CLI's run-once uses it).
"""

from __future__ import annotations

import msgspec

from actors import Message
from clash.market.hyperliquid.wire import HlCandle


class MarketPollResult(msgspec.Struct, frozen=True):
    """What one poll did: rows written, or the error that stopped it."""

    source: str
    channel: str
    rows: int = 0
    error: str | None = None
    decode_error: bool = False


# ---------------------------------------------------------------- Hyperliquid


class HlBoot(Message, frozen=True):
    """First message: registry, funding and a short candle backfill so indicators are defined soon."""


class HlRefreshRegistry(Message, frozen=True):
    pass


class HlPollContexts(Message, frozen=True):
    """metaAndAssetCtxs (+ spot ctxs): funding rows, 24h stats, and profiles when they are due."""


class HlPollPredicted(Message, frozen=True):
    pass


class HlPollFundingHistory(Message, frozen=True):
    pass


class HlSweepCandles(Message, frozen=True):
    """Close what the stream did not: candleSnapshot for enabled assets behind the last minute."""


class HlFlushMids(Message, frozen=True):
    """Persist the latest mids; poll allMids over REST when the stream's are stale."""


class HlBackfill(Message, frozen=True):
    """Fetch and close 1-minute candles of `symbols` from `start_ms` (all enabled when empty)."""

    start_ms: int
    symbols: list[str] = []  # noqa: RUF012 (a msgspec field: each message gets its own list)


class HlStreamCandles(Message, frozen=True):
    bars: list[HlCandle]


class HlStreamMids(Message, frozen=True):
    mids: dict[str, float]
    received_ms: int


class HlStreamReconnected(Message, frozen=True):
    gap_since_ms: int
    reconnected_ms: int


# ---------------------------------------------------------------- Polymarket, DefiLlama


class PolymarketPoll(Message, frozen=True):
    pass


class DefiLlamaPoll(Message, frozen=True):
    pass


# ---------------------------------------------------------------- retention, health


class MarketRetentionRun(Message, frozen=True):
    pass


class MarketHealthSnapshot(Message, frozen=True):
    pass
