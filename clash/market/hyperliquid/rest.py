"""Async client for Hyperliquid's `POST /info`, with retries and the per-IP weight budget."""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import httpx
import msgspec

from clash.market.hyperliquid import wire
from clash.market.hyperliquid.wire import DecodeError, SourceError
from clash.market.retry import Retryable, RetryPolicy, raise_for_status, with_retries

T = TypeVar("T")

MAINNET_URL = "https://api.hyperliquid.xyz"
MAX_CANDLES = 5000  # per candleSnapshot answer: page by moving startTime
MAX_FUNDING_ROWS = 500  # per fundingHistory answer: page with startTime = last.time + 1

WEIGHT_PER_MINUTE = 1200
_LIGHT = {
    "allMids": 2,
    "l2Book": 2,
    "clearinghouseState": 2,
    "orderStatus": 2,
    "spotClearinghouseState": 2,
    "exchangeStatus": 2,
    "userRole": 60,
}
_ITEMS_PER_EXTRA = {"candleSnapshot": 60, "fundingHistory": 20}


def request_weight(kind: str) -> int:
    """Weight charged up front for one `/info` request of this type."""
    return _LIGHT.get(kind, 20)


def response_weight(kind: str, items: int) -> int:
    """Extra weight for large responses (rounded up: the rule is undocumented, so be safe)."""
    per = _ITEMS_PER_EXTRA.get(kind)
    return math.ceil(items / per) if per and items > 0 else 0


class WeightBudget:
    """Token bucket for the shared per-IP weight (1200 per minute, refilled continuously).

    `charge` may push the balance below zero (weight only known after the response); the
    next `acquire` then waits until the debt is repaid.
    """

    def __init__(
        self,
        now: Callable[[], float],
        sleep: Callable[[float], Awaitable[Any]],
        *,
        capacity: float = WEIGHT_PER_MINUTE,
        per_minute: float = WEIGHT_PER_MINUTE,
    ) -> None:
        self._now = now
        self._sleep = sleep
        self.capacity = capacity
        self.rate = per_minute / 60.0
        self._tokens = capacity
        self._stamp: float | None = None

    @property
    def available(self) -> float:
        self._refill()
        return self._tokens

    def _refill(self) -> None:
        now = self._now()
        if self._stamp is not None:
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_time(self, weight: float) -> float:
        """Seconds until `weight` can be taken (0 if it can be taken now)."""
        self._refill()
        need = min(weight, self.capacity) - self._tokens
        return max(0.0, need / self.rate)

    def try_take(self, weight: float) -> bool:
        if self.wait_time(weight) > 0:
            return False
        self._tokens -= weight
        return True

    def charge(self, weight: float) -> None:
        self._refill()
        self._tokens -= weight

    async def acquire(self, weight: float) -> None:
        while (delay := self.wait_time(weight)) > 0:
            await self._sleep(delay)
        self._tokens -= weight


class RestStats(msgspec.Struct):
    """Counters for source health: attempts made, retries, final failures, bad payloads."""

    requests: int = 0
    retries: int = 0
    failures: int = 0
    decode_errors: int = 0


class HyperliquidRest:
    """Typed `/info` calls. Returns wire types; see `wire.to_*` for domain values.

    Retries 429, 5xx and transport errors (bounded, jittered), then raises SourceError.
    A payload that does not decode raises DecodeError at once (retrying will not fix it).
    """

    def __init__(
        self,
        base_url: str = MAINNET_URL,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        budget: WeightBudget | None = None,
        attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 10.0,
        timeout: float = 10.0,
        sleep: Callable[[float], Awaitable[Any]] = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            base_url=base_url, transport=transport, timeout=timeout
        )
        self.budget = budget or WeightBudget(anyio.current_time, sleep)
        self._policy = RetryPolicy(attempts=attempts, base_s=backoff_base, max_s=backoff_max)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.stats = RestStats()

    async def __aenter__(self) -> HyperliquidRest:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def meta(self, dex: str | None = None) -> wire.Meta:
        return await self._info(wire.MetaRequest(dex=dex), wire.Meta)

    async def spot_meta(self) -> wire.SpotMeta:
        return await self._info(wire.SpotMetaRequest(), wire.SpotMeta)

    async def meta_and_asset_ctxs(self, dex: str | None = None) -> wire.MetaAndAssetCtxs:
        return await self._info(wire.MetaAndAssetCtxsRequest(dex=dex), wire.MetaAndAssetCtxs)

    async def spot_meta_and_asset_ctxs(self) -> wire.SpotMetaAndAssetCtxs:
        return await self._info(wire.SpotMetaAndAssetCtxsRequest(), wire.SpotMetaAndAssetCtxs)

    async def all_mids(self, dex: str | None = None) -> wire.AllMids:
        return await self._info(wire.AllMidsRequest(dex=dex), wire.AllMids)

    async def candle_snapshot(
        self, coin: str, interval: str, start_ms: int, end_ms: int | None = None
    ) -> list[wire.Candle]:
        """At most 5000 candles from `start_ms`; an unknown coin (`null`) gives []."""
        window = wire.CandleWindow(coin=coin, interval=interval, startTime=start_ms, endTime=end_ms)
        out: wire.CandleSnapshot = await self._info(
            wire.CandleSnapshotRequest(req=window), wire.CandleSnapshot
        )
        return out or []

    async def predicted_fundings(self) -> wire.PredictedFundings:
        return await self._info(wire.PredictedFundingsRequest(), wire.PredictedFundings)

    async def funding_history(
        self, coin: str, start_ms: int, end_ms: int | None = None
    ) -> wire.FundingHistory:
        """One page; page on with `start_ms = last.time + 1`."""
        req = wire.FundingHistoryRequest(coin=coin, startTime=start_ms, endTime=end_ms)
        return await self._info(req, wire.FundingHistory)

    async def _info(self, request: wire.InfoRequest, type_: type[T] | Any) -> T:
        kind = str(type(request).__struct_config__.tag)
        body = wire.encode(request)
        raw = await self._post(kind, body)
        try:
            value = wire.decode(raw, type_)
        except DecodeError:
            self.stats.decode_errors += 1
            raise
        if isinstance(value, list):
            self.budget.charge(response_weight(kind, len(value)))
        return value

    async def _post(self, kind: str, body: bytes) -> bytes:
        what = f"Hyperliquid {kind}"

        async def attempt() -> bytes:
            await self.budget.acquire(request_weight(kind))
            self.stats.requests += 1
            response = await self._client.post(
                "/info", content=body, headers={"Content-Type": "application/json"}
            )
            raise_for_status(response, what)
            return response.content

        try:
            return await with_retries(
                attempt,
                self._policy,
                what=what,
                sleep=self._sleep,
                rng=self._rng,
                on_retry=self._count_retry,
            )
        except SourceError:
            self.stats.failures += 1
            raise

    def _count_retry(self, _: Retryable) -> None:
        self.stats.retries += 1


__all__ = [
    "DecodeError",
    "HyperliquidRest",
    "MAINNET_URL",
    "RestStats",
    "SourceError",
    "WeightBudget",
    "request_weight",
    "response_weight",
]
