"""The one interface every decision engine speaks.

An engine turns a rendered prompt into the model's raw answer text plus what the call cost. It does
not parse the answer (``clash.trading.actions.parse_answer`` does, so every engine is judged by the
same strict rules) and it never trades.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

import msgspec

from clash.clones import ModelStrength
from clash.trading.prompt import PROMPT_VERSION, Prompt

EngineErrorCode = Literal[
    "rate_limited",
    "overloaded",
    "server_error",
    "timeout",
    "connection",
    "bad_request",
    "bad_response",
    "auth",
    "unknown_model",
    "script_exhausted",
]


class EngineRequest(msgspec.Struct, frozen=True, kw_only=True):
    system: str
    user: str
    asset: str
    model_strength: ModelStrength = "light"
    """Routes the model (``[trading.models.routes]``); the clone's entitlement was checked."""
    model: str | None = None
    """An explicit model id, overriding the route's (must be priced; the route's effort stays)."""
    prompt_version: str = PROMPT_VERSION
    max_tokens: int | None = None
    """None: the route's (sized for thinking plus the answer)."""
    run_id: str = ""
    """The decision run this call serves; only for logs and the fake API's records."""
    clone_id: int | None = None
    """The clone this call serves; only for logs."""


class EngineAnswer(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    """The raw answer, unparsed."""
    engine: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_micro_usd: int = 0
    latency_ms: int = 0
    """Wall time of the whole decide, retries and backoff included."""
    attempts: int = 1
    stop_reason: str | None = None
    cached: bool = False
    """Answered from the response cache: no call was made, tokens, cost and latency are 0."""


class EngineError(Exception):
    """The engine could not produce an answer (after its retries). The run records it; no trade."""

    def __init__(
        self, code: EngineErrorCode, message: str, *, attempts: int = 1, status: int | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code: EngineErrorCode = code
        self.message = message
        self.attempts = attempts
        self.status = status


@runtime_checkable
class Engine(Protocol):
    name: str

    def model_for(self, request: EngineRequest) -> str:
        """The model that would answer ``request`` (part of the response cache key)."""
        ...

    async def decide(self, request: EngineRequest) -> EngineAnswer: ...


def request_for(
    prompt: Prompt,
    asset: str,
    *,
    model_strength: ModelStrength = "light",
    model: str | None = None,
    run_id: str = "",
    clone_id: int | None = None,
    max_tokens: int | None = None,
) -> EngineRequest:
    """The request for a rendered prompt (carries its template version into the cache key)."""
    return EngineRequest(
        system=prompt.system,
        user=prompt.user,
        asset=asset,
        model_strength=model_strength,
        model=model,
        prompt_version=prompt.version,
        max_tokens=max_tokens,
        run_id=run_id,
        clone_id=clone_id,
    )
