"""Engines as a run sees them (`Decider`), and the choice of engine from config."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

import anyio
import msgspec

from actors import Clock
from clash.trading.cache import CachedEngine, ResponseCache
from clash.trading.config import TradingConfig
from clash.trading.engines.base import Engine, EngineAnswer, EngineRequest
from clash.trading.packet import AssetContext
from clash.trading.prompt import PROMPT_VERSION
from clash.trading.rules import RulesDecider

MONOTONIC: Callable[[], float] = anyio.current_time
"""The runtime's monotonic clock (seconds), for latencies only; domain time comes from `Clock`."""


class DecisionJob(msgspec.Struct, frozen=True, kw_only=True):
    """What an engine may look at: the rendered prompt (model engines) or the packet (rules)."""

    run_id: str
    context: AssetContext
    legal: frozenset[str]
    mark_px: Decimal | None
    position_side: str | None
    leverage_cap: int
    model_strength: str
    request: EngineRequest | None = None


class Decider(Protocol):
    name: str
    needs_prompt: bool

    def model_for(self, model_strength: str) -> str: ...

    def prompt_version(self) -> str: ...

    async def decide(self, job: DecisionJob) -> EngineAnswer: ...


class ModelDecider:
    """A prompt-reading engine (`anthropic`, `scripted`, `hold`) behind the response cache."""

    needs_prompt = True

    def __init__(self, engine: Engine, cache: ResponseCache | None = None) -> None:
        self.engine = engine
        self.name = engine.name
        self._call: Engine = CachedEngine(engine, cache) if cache is not None else engine

    def model_for(self, model_strength: str) -> str:
        request = EngineRequest(system="", user="", asset="", model_strength=model_strength)  # type: ignore[arg-type]
        return self.engine.model_for(request)

    def prompt_version(self) -> str:
        return PROMPT_VERSION

    async def decide(self, job: DecisionJob) -> EngineAnswer:
        assert job.request is not None
        return await self._call.decide(job.request)


class EngineNotConfigured(Exception):
    """The configured engine cannot be built (a missing key)."""


async def build_decider(
    cfg: TradingConfig, api_key: str | None, cache: ResponseCache, clock: Clock
) -> Decider:
    """`auto`: Anthropic when a key is configured, else the rules engine. With a key, the provider's
    model list is read once and a routed id it lacks is logged as a warning. Retry backoff waits on
    `clock`."""
    from clash.trading.engines.hold import HoldEngine

    choice = cfg.engine
    if choice == "auto":
        choice = "anthropic" if api_key else "rules"
    if choice == "rules":
        return RulesDecider(cfg.rules)
    if choice == "hold":
        return ModelDecider(HoldEngine())
    if not api_key:
        raise EngineNotConfigured('trading.engine = "anthropic" needs ANTHROPIC_API_KEY')
    from clash.trading.engines.anthropic import AnthropicEngine

    a = cfg.anthropic
    engine = AnthropicEngine(
        api_key=api_key,
        now=MONOTONIC,
        base_url=a.base_url,
        timeout=a.timeout_s,
        attempts=a.attempts,
        backoff_base=a.backoff_base_s,
        backoff_max=a.backoff_max_s,
        retry_after_max=a.retry_after_max_s,
        sleep=clock.sleep,
        models=cfg.models,
        models_check_timeout=a.models_check_timeout_s,
    )
    await engine.check_models()
    return ModelDecider(engine, cache)
