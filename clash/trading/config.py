"""Decision runtime settings (the `[trading]` section and its `[trading.*]` subsections)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

EngineChoice = Literal["auto", "rules", "anthropic", "hold"]


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class AnthropicSettings(_Section):
    """The Messages API engine (used when `engine` is `anthropic`, or `auto` with a key)."""

    base_url: str | None = None
    """None: the SDK's default (api.anthropic.com)."""
    timeout_s: float = 30.0
    attempts: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 20.0
    retry_after_max_s: float = 30.0
    max_tokens: int = 1024


class RulesSettings(_Section):
    """The deterministic `rules` engine (docs/rules-engine.md)."""

    rsi_low: Decimal = Decimal(30)
    rsi_high: Decimal = Decimal(70)
    trend_pct: Decimal = Decimal("0.002")
    """A close this far above (below) its mean is an up (down) trend."""
    funding_extreme: Decimal = Decimal("0.0001")
    """An hourly funding rate beyond this is crowded: lean against it."""
    entry_score: int = 2
    exit_score: int = 1
    size_fraction: Decimal = Decimal("0.2")
    leverage: int = 2
    stop_loss_pct: Decimal = Decimal("0.02")
    take_profit_pct: Decimal = Decimal("0.04")


class ArtifactSettings(_Section):
    backend: Literal["local"] = "local"
    dir: str = ""
    """Empty: `<data_dir>/artifacts` (keys start with `decisions/`)."""
    retention_days: float = 7.0
    """Full context, prompt, response and reasoning are deleted after this; summaries stay."""
    retention_interval_s: float = 3600.0
    retention_batch: int = 500


class DemoSettings(_Section):
    """The demo clone `clash run` creates once (owner `demo`, a sandbox account) so a fresh server
    shows decisions and fills within minutes. Its values live in config/default.toml."""

    name: str
    assets: list[str]
    """Traded where the market module's Hyperliquid assets include them."""
    channels: list[str]
    """The Hyperliquid channels it reads, each for the decision asset itself (`ohlcv`, `macd`, ...)."""
    profile: Literal["fast", "balanced", "deep"]
    """How far back and how fine its blocks read (clones.graph BUILTIN_PROFILES)."""
    cadence_s: int
    prompt: str

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("trading.demo.name must not be empty")
        if not self.assets or any(not a.strip() for a in self.assets):
            raise ValueError("trading.demo.assets must name at least one asset")
        if not self.channels or len(set(self.channels)) != len(self.channels):
            raise ValueError("trading.demo.channels must name at least one channel, each once")
        if not 60 <= self.cadence_s <= 86_400:
            raise ValueError("trading.demo.cadence_s must be between 60 and 86400")
        if not self.prompt.strip() or len(self.prompt) > 8000:
            raise ValueError("trading.demo.prompt must be 1 to 8000 characters")


class TradingConfig(_Section):
    engine: EngineChoice = "auto"
    """`auto`: `anthropic` when ANTHROPIC_API_KEY is set, else `rules`."""
    demo_clone: bool = False
    """At start, create (once) and activate the `demo` clone in a sandbox account."""
    demo: DemoSettings | None = None
    """The demo clone's settings (required with `demo_clone`)."""
    align_offset_s: float = 7.0
    """Cadence ticks land this long after each cadence boundary (after the minute's candle closed)."""
    max_concurrent_model_calls: int = 16
    run_attempts: int = 2
    """Engine attempts per run (each engine may retry inside, e.g. the Anthropic engine's 429s)."""
    retry_backoff_s: float = 5.0
    retry_backoff_max_s: float = 60.0
    run_timeout_s: float = 120.0
    """Wall-clock bound of one attempt; past it the attempt fails with `timeout` and frees its lease."""
    mark_max_age_s: float = 120.0
    """A mark older than this is no price: only `hold` is legal and no engine is called."""
    cache_max_entries: int = 1024
    cache_retention_days: float = 7.0
    anthropic: AnthropicSettings = msgspec.field(default_factory=AnthropicSettings)
    rules: RulesSettings = msgspec.field(default_factory=RulesSettings)
    artifacts: ArtifactSettings = msgspec.field(default_factory=ArtifactSettings)

    def __post_init__(self) -> None:
        if self.max_concurrent_model_calls < 1:
            raise ValueError("trading.max_concurrent_model_calls must be at least 1")
        if self.run_attempts < 1:
            raise ValueError("trading.run_attempts must be at least 1")
        for name in ("retry_backoff_s", "retry_backoff_max_s", "run_timeout_s", "mark_max_age_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"trading.{name} must be positive")
        if self.demo_clone and self.demo is None:
            raise ValueError("trading.demo_clone needs a [trading.demo] section")
        if self.artifacts.retention_days <= 0 or self.artifacts.retention_interval_s <= 0:
            raise ValueError("trading.artifacts retention_days and retention_interval_s must be positive")
