"""Decision runtime settings (the `[trading]` section and its `[trading.*]` subsections)."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from functools import cache
from pathlib import Path
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
Effort = Literal["low", "medium", "high", "xhigh", "max"]
"""The Messages API's ``output_config.effort`` levels."""

DEFAULT_TOML = Path(__file__).resolve().parents[2] / "config" / "default.toml"
MAX_PRICE_PER_MTOK = Decimal(10_000)
"""A sanity ceiling on a configured price (USD per million tokens)."""
MAX_OUTPUT_TOKENS = 128_000
"""The largest ``max_tokens`` any current model accepts (platform.claude.com models overview)."""


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class _Frozen(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A section shared once decoded (the default models are cached)."""


class UnknownModel(ValueError):
    pass


class ModelPrice(_Frozen, frozen=True):
    """USD per million tokens, which is also micro-USD per token."""

    input_per_mtok: Decimal
    output_per_mtok: Decimal


class ModelRoute(_Frozen, frozen=True):
    """How a model strength calls the Messages API."""

    model: str
    max_tokens: int
    """Thinking counts against it on adaptive-thinking models: room for thinking and answer."""
    effort: Effort | None = None
    """Set: adaptive thinking (``thinking: {type: adaptive}``) at this ``output_config.effort``.
    None: neither is sent (for models without adaptive thinking or effort, e.g. Haiku 4.5)."""


class ModelsConfig(_Frozen, frozen=True):
    """`[trading.models]`: model strength -> route, and every priced model id."""

    routes: dict[str, ModelRoute]
    """Model strength (``light``, ``standard``, ``max``) -> route."""
    prices: dict[str, ModelPrice]

    def __post_init__(self) -> None:
        for strength, route in self.routes.items():
            if route.model not in self.prices:
                raise ValueError(
                    f"trading.models.routes.{strength} routes to {route.model!r}, "
                    "which has no price"
                )
            if not 1 <= route.max_tokens <= MAX_OUTPUT_TOKENS:
                raise ValueError(
                    f"trading.models.routes.{strength}.max_tokens must be within "
                    f"[1, {MAX_OUTPUT_TOKENS}], got {route.max_tokens}"
                )
        for model, p in self.prices.items():
            for name in ("input_per_mtok", "output_per_mtok"):
                value: Decimal = getattr(p, name)
                if not value.is_finite() or not 0 <= value <= MAX_PRICE_PER_MTOK:
                    raise ValueError(
                        f"trading.models.prices.{model}.{name} must be within "
                        f"[0, {MAX_PRICE_PER_MTOK}], got {value}"
                    )

    def route(self, strength: str) -> ModelRoute:
        try:
            return self.routes[strength]
        except KeyError:
            known = ", ".join(sorted(self.routes))
            raise UnknownModel(
                f"no model routed for strength {strength!r} (known: {known})"
            ) from None

    def price(self, model: str) -> ModelPrice:
        try:
            return self.prices[model]
        except KeyError:
            raise UnknownModel(f"no price for model {model!r}") from None


@cache
def default_models() -> ModelsConfig:
    """`[trading.models]` of config/default.toml: the one place model ids and prices are written."""
    raw = tomllib.loads(DEFAULT_TOML.read_text())
    return msgspec.convert(raw["trading"]["models"], ModelsConfig, strict=True)


class AnthropicSettings(_Section):
    """The Messages API engine (used when `engine` is `anthropic`, or `auto` with a key)."""

    base_url: str | None = None
    """None: the SDK's default (api.anthropic.com)."""
    timeout_s: Seconds = 30.0
    attempts: AtLeastOne = 4
    backoff_base_s: Seconds = 0.5
    backoff_max_s: Seconds = 20.0
    retry_after_max_s: Seconds = 30.0
    models_check_timeout_s: Seconds = 10.0
    """Bound of the boot-time model listing (``GET /v1/models``)."""


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
    models: ModelsConfig = msgspec.field(default_factory=default_models)
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
            raise ValueError(
                "trading.artifacts retention_days and retention_interval_s must be positive"
            )
