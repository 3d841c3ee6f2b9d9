"""The Anthropic Messages API engine, through the official SDK.

The SDK's own retries are off (``max_retries=0``); tenacity owns the policy: 429, 408, 5xx (529
overloaded included), timeouts and connection errors are retried, at most ``attempts`` calls in all,
with full-jitter exponential backoff that never waits less than a server's ``retry-after``. A
``retry-after`` longer than ``retry_after_max`` ends the retries at once (waiting that long would
miss the decision's cadence). Anything else (400, 401, 403, 404, ...) fails at once. Either way the
caller gets an :class:`EngineError` with a code; no trade follows.

Each model strength has a route (``[trading.models.routes]``): a model, a ``max_tokens`` and an
optional effort. With an effort the call asks for adaptive thinking (``thinking: {type: adaptive}``)
at ``output_config.effort``; thinking counts against ``max_tokens``, so the route sizes it for
the thinking plus the answer. No sampling parameters and no manual thinking budget are ever sent
(current models answer both with 400). The answer is the text blocks after any thinking blocks; a
``refusal`` or ``max_tokens`` stop comes back as an answer with that ``stop_reason`` and
``parse_answer`` gives it its own rejection code.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import anthropic
import anyio
import tenacity

from clash.trading.engines.base import (
    EngineAnswer,
    EngineError,
    EngineErrorCode,
    EngineRequest,
)
from clash.trading.engines.pricing import ModelsConfig, UnknownModel, cost_micro_usd, default_models

log = logging.getLogger(__name__)


class AnthropicEngine:
    name = "anthropic"

    def __init__(
        self,
        *,
        api_key: str,
        now: Callable[[], float],
        base_url: str | None = None,
        timeout: float = 30.0,
        attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 20.0,
        retry_after_max: float = 30.0,
        models: ModelsConfig | None = None,
        models_check_timeout: float = 10.0,
        sleep: Callable[[float], Awaitable[Any]] = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """``now`` is a monotonic clock in seconds (latency only); ``timeout`` bounds each call."""
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0
        )
        self._now = now
        self._timeout = timeout
        self._attempts = attempts
        self._wait = _Wait(backoff_base, backoff_max, rng or random.Random())
        self._retry_after_max = retry_after_max
        self._models = models or default_models()
        self._models_check_timeout = models_check_timeout
        self._sleep = sleep

    async def aclose(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> AnthropicEngine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def model_for(self, request: EngineRequest) -> str:
        try:
            return request.model or self._models.route(request.model_strength).model
        except UnknownModel as exc:
            raise EngineError("unknown_model", str(exc), attempts=0) from None

    async def check_models(self) -> frozenset[str] | None:
        """List the provider's models once (``GET /v1/models``) and warn about each routed id it
        does not list, or lists as deprecated or retired. Returns the ids it does not list; None
        when the listing failed (logged, boot goes on)."""
        try:
            known = {
                m.id: m.lifecycle
                async for m in self._client.models.list(
                    limit=1000, timeout=self._models_check_timeout
                )
            }
        except anthropic.APIError as exc:
            log.warning("could not list the provider's models: %s", exc, extra={"code": _code(exc)})
            return None
        unknown: set[str] = set()
        for strength, route in sorted(self._models.routes.items()):
            context = {"strength": strength, "model": route.model}
            lifecycle = known.get(route.model)
            if lifecycle is None:
                unknown.add(route.model)
                log.warning(
                    "strength %s routes to %s, which the provider's model list does not include",
                    strength,
                    route.model,
                    extra=context,
                )
            elif lifecycle != "active":
                log.warning(
                    "strength %s routes to %s, which the provider lists as %s",
                    strength,
                    route.model,
                    lifecycle,
                    extra={**context, "lifecycle": lifecycle},
                )
        log.info("the provider lists %d models; routes checked", len(known))
        return frozenset(unknown)

    async def decide(self, request: EngineRequest) -> EngineAnswer:
        context = {"run_id": request.run_id, "clone_id": request.clone_id, "asset": request.asset}
        try:
            route = self._models.route(request.model_strength)
            model = request.model or route.model
            price = self._models.price(model)
        except UnknownModel as exc:
            log.warning("model call refused: %s", exc, extra={**context, "code": "unknown_model"})
            raise EngineError("unknown_model", str(exc), attempts=0) from None
        max_tokens = request.max_tokens or route.max_tokens
        started = self._now()
        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception(self._retryable),
            sleep=self._sleep,
            reraise=True,
        )
        attempt_number = 0
        try:
            try:
                async for attempt in retrying:
                    with attempt:
                        attempt_number = attempt.retry_state.attempt_number
                        message = await self._call(model, route.effort, max_tokens, request)
            except anthropic.APIResponseValidationError as exc:
                raise EngineError(
                    "bad_response", f"{model}: {exc.message}", attempts=attempt_number
                ) from exc
            except anthropic.APIError as exc:
                raise self._error(exc, model, attempt_number) from exc
            except ValueError as exc:  # the SDK lets a non-JSON body escape as a decode error
                raise EngineError(
                    "bad_response",
                    f"{model}: the response body is not JSON ({exc})",
                    attempts=attempt_number,
                ) from exc
        except EngineError as err:
            log.warning(
                "model call failed: %s",
                err,
                extra={**context, "model": model, "code": err.code, "attempts": err.attempts},
            )
            raise
        text = "".join(b.text for b in message.content if b.type == "text")
        if message.stop_reason in ("refusal", "max_tokens"):
            log.warning(
                "model call stopped on %s",
                message.stop_reason,
                extra={**context, "model": model, "max_tokens": max_tokens},
            )
        usage = message.usage
        return EngineAnswer(
            text=text,
            engine=self.name,
            model=message.model or model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_micro_usd=cost_micro_usd(price, usage.input_tokens, usage.output_tokens),
            latency_ms=round((self._now() - started) * 1000),
            attempts=attempt_number,
            stop_reason=message.stop_reason,
        )

    async def _call(
        self, model: str, effort: str | None, max_tokens: int, request: EngineRequest
    ) -> anthropic.types.Message:
        thinking: dict[str, Any] = {}
        if effort is not None:
            thinking = {"thinking": {"type": "adaptive"}, "output_config": {"effort": effort}}
        return await self._client.messages.create(
            model=model,
            max_tokens=max_tokens,
            system=request.system,
            messages=[{"role": "user", "content": request.user}],
            **thinking,
        )

    def _retryable(self, exc: BaseException) -> bool:
        if isinstance(exc, anthropic.APIConnectionError):
            return True
        if not isinstance(exc, anthropic.APIStatusError):
            return False
        if not (exc.status_code in (408, 429) or exc.status_code >= 500):
            return False
        after = retry_after(exc)
        return after is None or after <= self._retry_after_max

    def _error(self, exc: anthropic.APIError, model: str, attempts: int) -> EngineError:
        status = exc.status_code if isinstance(exc, anthropic.APIStatusError) else None
        code = _code(exc)
        if isinstance(exc, anthropic.APITimeoutError):
            what = f"no response within {self._timeout:g}s"
        elif isinstance(exc, anthropic.APIConnectionError):
            what = f"connection failed ({exc.__cause__ or exc.message})"
        else:
            kind = getattr(exc, "type", None) or ""
            what = f"HTTP {status} {kind}: {getattr(exc, 'api_message', None) or exc.message}"
        message = f"{model}: {what}"
        if attempts >= self._attempts and self._retryable(exc):
            message += f" (gave up after {attempts} attempts)"
        elif (after := retry_after(exc)) is not None and after > self._retry_after_max:
            message += f" (retry-after {after:g}s is longer than {self._retry_after_max:g}s)"
        return EngineError(code, message, attempts=attempts, status=status)


def retry_after(exc: BaseException) -> float | None:
    """Seconds a server asked us to wait (``retry-after-ms``, else ``retry-after`` in seconds)."""
    if not isinstance(exc, anthropic.APIStatusError):
        return None
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            seconds = float(raw) * scale
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None


class _Wait(tenacity.wait.wait_base):
    """Full-jitter exponential backoff, never shorter than the server's ``retry-after``."""

    def __init__(self, base: float, cap: float, rng: random.Random) -> None:
        self.base, self.cap, self.rng = base, cap, rng

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        ceiling = min(self.cap, self.base * 2 ** (retry_state.attempt_number - 1))
        delay = self.rng.uniform(0, ceiling)
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        after = retry_after(exc) if exc is not None else None
        return max(delay, after) if after is not None else delay


def _code(exc: anthropic.APIError) -> EngineErrorCode:
    if isinstance(exc, anthropic.APITimeoutError):
        return "timeout"
    if isinstance(exc, anthropic.APIConnectionError):
        return "connection"
    status = exc.status_code if isinstance(exc, anthropic.APIStatusError) else 0
    if status == 429:
        return "rate_limited"
    if status == 529:
        return "overloaded"
    if status == 408:
        return "timeout"
    if status >= 500:
        return "server_error"
    if status in (401, 403):
        return "auth"
    return "bad_request"
