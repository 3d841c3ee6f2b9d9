"""The one retry rule every market HTTP client uses.

`with_retries` runs `call` up to `policy.attempts` times. It retries `Retryable` (raised by
`raise_for_status` for 429 and 5xx) and httpx transport errors, waiting full-jitter exponential
backoff `uniform(0, min(max_s, base_s * 2**(n-1)))` but never less than a numeric `Retry-After`
capped at `max_s`. Once attempts run out it raises `SourceError` with the last status and the
attempt count. Anything else, such as `SourceError` for other non-2xx or `DecodeError`, passes
through at once, unretried.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import httpx
import msgspec
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from clash.market.errors import SourceError

__all__ = ["RetryPolicy", "Retryable", "Sleep", "raise_for_status", "retry_after", "with_retries"]

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[Any]]
"""Waits a number of seconds: `anyio.sleep`, or an actor clock's `sleep`."""

_RNG = random.Random()


class RetryPolicy(msgspec.Struct, frozen=True):
    """Bounded exponential backoff with full jitter; `max_s` also caps any `Retry-After`."""

    attempts: int = 4
    base_s: float = 0.5
    max_s: float = 8.0


class Retryable(Exception):
    """A failure worth another attempt: 429, 5xx or a transport error."""

    def __init__(
        self, message: str, status: int | None = None, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


def retry_after(response: httpx.Response) -> float | None:
    """The numeric `Retry-After` in seconds (never negative), or None if absent or a date."""
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return None


def raise_for_status(response: httpx.Response, what: str) -> None:
    """Raise `Retryable` for 429/5xx and `SourceError` for any other non-2xx."""
    status = response.status_code
    if status == 429 or status >= 500:
        raise Retryable(f"HTTP {status}", status, retry_after(response))
    if not 200 <= status < 300:
        raise SourceError(f"{what}: HTTP {status}: {response.text[:200]}", status=status)


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    what: str,
    sleep: Sleep = anyio.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[Retryable], object] | None = None,
) -> T:
    """Await `call()` under `policy`; `on_retry` sees each failure that will be retried."""
    attempts = max(1, policy.attempts)
    uniform = (rng or _RNG).uniform

    def wait(state: RetryCallState) -> float:
        delay = uniform(0, min(policy.max_s, policy.base_s * 2 ** (state.attempt_number - 1)))
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Retryable) and exc.retry_after_s is not None:
            delay = max(delay, min(exc.retry_after_s, policy.max_s))
        return delay

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if on_retry is not None and isinstance(exc, Retryable):
            on_retry(exc)

    async def once() -> T:
        try:
            return await call()
        except httpx.TransportError as e:
            raise Retryable(f"transport error: {e!r}") from e

    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait,
        retry=retry_if_exception_type(Retryable),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                return await once()
    except Retryable as e:
        raise SourceError(
            f"{what}: {e} (gave up after {attempts} attempts)", status=e.status, attempts=attempts
        ) from e
    raise AssertionError("unreachable")
