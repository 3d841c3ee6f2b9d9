"""Decision runtime settings (the `[trading]` section and its `[trading.*]` subsections)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Seconds = Annotated[float, Meta(gt=0, le=30 * 86_400)]
"""An interval, timeout or backoff: positive, finite, at most 30 days."""
Days = Annotated[float, Meta(gt=0, le=3650)]
AtLeastOne = Annotated[int, Meta(ge=1, le=1_000_000)]
Fraction = Annotated[Decimal, Meta(extra={"gt": 0, "le": 1})]
Rsi = Annotated[Decimal, Meta(extra={"ge": 0, "le": 100})]

EngineChoice = Literal["auto", "rules", "anthropic", "hold"]


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class AnthropicSettings(_Section):
    """The Messages API engine (used when `engine` is `anthropic`, or `auto` with a key)."""

    base_url: str | None = None
    """None: the SDK's default (api.anthropic.com)."""
    timeout_s: Seconds = 30.0
    attempts: AtLeastOne = 4
    backoff_base_s: Seconds = 0.5
    backoff_max_s: Seconds = 20.0
    retry_after_max_s: Seconds = 30.0
    max_tokens: AtLeastOne = 1024


class RulesSettings(_Section):
    """The deterministic `rules` engine (docs/rules-engine.md)."""

    rsi_low: Rsi = Decimal(30)
    rsi_high: Rsi = Decimal(70)
    trend_pct: Fraction = Decimal("0.002")
    """A close this far above (below) its mean is an up (down) trend."""
    funding_extreme: Fraction = Decimal("0.0001")
    """An hourly funding rate beyond this is crowded: lean against it."""
    entry_score: Annotated[int, Meta(ge=0, le=100)] = 2
    exit_score: Annotated[int, Meta(ge=0, le=100)] = 1
    size_fraction: Fraction = Decimal("0.2")
    leverage: Annotated[int, Meta(ge=1, le=100)] = 2
    stop_loss_pct: Fraction = Decimal("0.02")
    take_profit_pct: Annotated[Decimal, Meta(extra={"gt": 0, "le": 10})] = Decimal("0.04")


class ArtifactSettings(_Section):
    backend: Literal["local"] = "local"
    dir: str = ""
    """Empty: `<data_dir>/artifacts` (keys start with `decisions/`)."""
    retention_days: Days = 7.0
    """Full context, prompt, response and reasoning are deleted after this; summaries stay."""
    retention_interval_s: Seconds = 3600.0
    retention_batch: AtLeastOne = 500


class TradingConfig(_Section):
    engine: EngineChoice = "auto"
    """`auto`: `anthropic` when ANTHROPIC_API_KEY is set, else `rules`."""
    demo_clone: bool = False
    """At start, create (once) and activate a demo clone on BTC, ETH and SOL in a sandbox account."""
    align_offset_s: Annotated[float, Meta(ge=0, le=3600)] = 7.0
    """Cadence ticks land this long after each cadence boundary (after the minute's candle closed)."""
    max_concurrent_model_calls: AtLeastOne = 16
    run_attempts: Annotated[int, Meta(ge=1, le=100)] = 2
    """Engine attempts per run (each engine may retry inside, e.g. the Anthropic engine's 429s)."""
    retry_backoff_s: Seconds = 5.0
    retry_backoff_max_s: Seconds = 60.0
    run_timeout_s: Seconds = 120.0
    """Wall-clock bound of one attempt; past it the attempt fails with `timeout` and frees its lease."""
    mark_max_age_s: Seconds = 120.0
    """A mark older than this is no price: only `hold` is legal and no engine is called."""
    cache_max_entries: Annotated[int, Meta(ge=0, le=10_000_000)] = 1024
    cache_retention_days: Days = 7.0
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
        if self.artifacts.retention_days <= 0 or self.artifacts.retention_interval_s <= 0:
            raise ValueError("trading.artifacts retention_days and retention_interval_s must be positive")
