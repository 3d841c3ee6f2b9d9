"""Market data settings (the `[market]` section and its `[market.*]` subsections).

`source = "sim"` serves the built-in simulator on loopback and points every client at it, whatever
the URLs below say; `source = "live"` uses the URLs (config/live.toml spells them out).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Seconds = Annotated[float, Meta(gt=0, le=30 * 86_400)]
"""An interval, timeout or age: positive, finite, at most 30 days."""
Delay = Annotated[float, Meta(ge=0, le=30 * 86_400)]
Count = Annotated[int, Meta(ge=0, le=1_000_000)]
AtLeastOne = Annotated[int, Meta(ge=1, le=1_000_000)]
Port = Annotated[int, Meta(ge=0, le=65_535)]
Span = Annotated[float, Meta(gt=0, le=87_600)]
"""A retention or window in hours or days: positive, finite."""


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class RetrySettings(_Section):
    """Bounded, jittered retries of 429 / 5xx / transport errors before a poll counts as failed."""

    attempts: AtLeastOne = 4
    backoff_s: Delay = 0.5
    backoff_max_s: Delay = 10.0
    timeout_s: Seconds = 10.0


class HyperliquidSettings(_Section):
    enabled: bool = True
    rest_url: str = "https://api.hyperliquid.xyz"
    ws_url: str = "wss://api.hyperliquid.xyz/ws"
    websocket: bool = True
    assets: list[str] = msgspec.field(default_factory=lambda: ["BTC", "ETH", "SOL", "HYPE"])
    """Enabled symbols: perps by name ("BTC"), spot pairs as BASE/QUOTE ("HYPE/USDC")."""
    registry_interval_s: Seconds = 3600.0
    contexts_interval_s: Seconds = 60.0
    predicted_interval_s: Seconds = 300.0
    funding_history_interval_s: Seconds = 3600.0
    profile_interval_s: Seconds = 300.0
    candle_sweep_interval_s: Seconds = 60.0
    candle_sweep_delay_s: Delay = 5.0
    """The sweep runs this long after each minute boundary, once the stream has had its chance."""
    mids_flush_interval_s: Seconds = 5.0
    mids_stale_s: Seconds = 30.0
    """Stream mids older than this are replaced by a REST `allMids` poll."""
    boot_backfill_minutes: Count = 120
    gap_fill_max_minutes: Count = 1440
    funding_history_lookback_h: Count = 24
    weight_per_minute: AtLeastOne = 1200
    retry: RetrySettings = msgspec.field(default_factory=RetrySettings)


class PolymarketSettings(_Section):
    enabled: bool = True
    url: str = "https://gamma-api.polymarket.com"
    interval_s: Seconds = 300.0
    closed_within_h: Count = 24
    max_pages: AtLeastOne = 3
    recently_closed: Count = 5
    per_asset: Count = 5
    retry: RetrySettings = msgspec.field(default_factory=RetrySettings)


class DefiLlamaSettings(_Section):
    enabled: bool = True
    api_url: str = "https://api.llama.fi"
    stablecoins_url: str = "https://stablecoins.llama.fi"
    interval_s: Seconds = 3600.0
    chains: list[str] = msgspec.field(
        default_factory=lambda: ["Ethereum", "Solana", "Bitcoin", "Hyperliquid L1"]
    )
    """Chains collected besides the global scope, as DefiLlama spells them."""
    retry: RetrySettings = msgspec.field(default_factory=lambda: RetrySettings(timeout_s=20.0))


class RetentionSettings(_Section):
    interval_s: Seconds = 300.0
    batch_rows: AtLeastOne = 2000
    archive: bool = True
    """Archive expired rows to `<artifacts>/market/<table>/<day>.jsonl.gz` before deleting them."""
    candles_1m_h: Span = 24.0
    candles_1h_d: Span = 7.0
    indicators_h: Span = 24.0
    funding_d: Span = 7.0
    profiles_d: Span = 7.0
    polymarket_d: Span = 7.0
    macro_d: Span = 30.0
    health_d: Span = 7.0


class HealthSettings(_Section):
    snapshot_interval_s: Seconds = 60.0
    stale_factor: Annotated[float, Meta(gt=0, le=1000)] = 3.0
    """A channel is stale when its last success (or its data) is older than this many cadences."""
    min_stale_s: Delay = 120.0
    min_coverage: Annotated[float, Meta(ge=0, le=1)] = 0.5
    rate_window_s: Seconds = 300.0
    dashboard_hours: Span = 6.0


class MarketConfig(_Section):
    source: Literal["sim", "live"] = "sim"
    sim_seed: int = 7
    sim_port: Port = 0
    """Loopback port for the simulator (0: the OS picks one)."""
    sim_history_days: Count = 7
    trending_top_n: Count = 10
    hyperliquid: HyperliquidSettings = msgspec.field(default_factory=HyperliquidSettings)
    polymarket: PolymarketSettings = msgspec.field(default_factory=PolymarketSettings)
    defillama: DefiLlamaSettings = msgspec.field(default_factory=DefiLlamaSettings)
    retention: RetentionSettings = msgspec.field(default_factory=RetentionSettings)
    health: HealthSettings = msgspec.field(default_factory=HealthSettings)
