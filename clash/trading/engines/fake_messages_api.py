"""A fake Anthropic Messages API (``POST /v1/messages``) in the real wire format, for tests and benches.

The real SDK is pointed at it with ``base_url``. Behaviour is scripted: a queue of steps consumed one
per request in arrival order (an answer, an HTTP error in Anthropic's error shape, a stall to force a
client timeout, a raw body), then a default responder. Every request is recorded (model, system,
user text, headers) so tests can assert the prompt sent, and that the cache spared a call.

Headers are checked as the real API does: an API key (``x-api-key``, or ``Authorization: Bearer``
as the installed SDK 2.x sends it; else 401 ``authentication_error``) and ``anthropic-version``
(else 400 ``invalid_request_error``); the body must be JSON with ``model``, ``max_tokens`` and
``messages``.
"""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio
import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clash.trading.actions import hold_answer
from clash.trading.prompt import asset_of
from clash.trading.tokens import estimate_tokens

ErrorType = Literal[
    "invalid_request_error",
    "authentication_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "overloaded_error",
]


class Reply(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    input_tokens: int | None = None
    """None: estimated from the request (chars / 4)."""
    output_tokens: int | None = None
    stop_reason: str = "end_turn"


class Fail(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    error_type: ErrorType
    message: str
    retry_after: float | None = None
    """Sent as the ``retry-after`` header (seconds)."""


class Stall(msgspec.Struct, frozen=True, kw_only=True):
    """Wait ``seconds`` before answering (longer than the client's timeout to force one); the
    handler ends as soon as the client hangs up."""

    seconds: float
    then: Reply | None = None


class Raw(msgspec.Struct, frozen=True, kw_only=True):
    status: int = 200
    body: bytes
    content_type: str = "application/json"


Step = Reply | Fail | Stall | Raw


def rate_limited(retry_after: float | None = 1.0) -> Fail:
    return Fail(
        status=429,
        error_type="rate_limit_error",
        message="Number of request tokens has exceeded your per-minute rate limit",
        retry_after=retry_after,
    )


def overloaded() -> Fail:
    return Fail(status=529, error_type="overloaded_error", message="Overloaded")


def server_error() -> Fail:
    return Fail(status=500, error_type="api_error", message="Internal server error")


class ReceivedRequest(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    max_tokens: int
    system: str
    user: str
    """The text of every user message, joined by newlines."""
    headers: dict[str, str]
    body: dict[str, Any]


Responder = Callable[[ReceivedRequest], str]


def hold_responder(request: ReceivedRequest) -> str:
    """A valid hold for the asset named in the prompt (``Asset: X``)."""
    return hold_answer(asset_of(request.user) or "UNKNOWN", "fake API default answer")


class _Block(msgspec.Struct):
    type: str
    text: str = ""


class _Message(msgspec.Struct):
    role: str
    content: str | list[_Block]


class _Body(msgspec.Struct):
    model: str
    max_tokens: int
    messages: list[_Message]
    system: str | list[_Block] = ""


class FakeMessagesApi:
    def __init__(
        self, responder: Responder = hold_responder, *, latency_s: float = 0.0
    ) -> None:
        self.responder = responder
        self.latency_s = latency_s
        self.requests: list[ReceivedRequest] = []
        self._steps: deque[Step] = deque()
        self._ids = 0
        self.app = Starlette(routes=[Route("/v1/messages", self._messages, methods=["POST"])])

    def script(self, *steps: Step) -> None:
        self._steps.extend(steps)

    @property
    def pending(self) -> int:
        return len(self._steps)

    async def _messages(self, request: Request) -> Response:
        self._ids += 1
        request_id = f"req_fake{self._ids:016d}"
        if not _api_key(request):
            return _error(401, "authentication_error", "x-api-key header is required", request_id)
        if not request.headers.get("anthropic-version"):
            return _error(
                400, "invalid_request_error", "anthropic-version: header is required", request_id
            )
        raw = await request.body()
        try:
            body = msgspec.json.decode(raw, type=_Body)
        except msgspec.DecodeError as exc:
            return _error(400, "invalid_request_error", str(exc), request_id)
        received = ReceivedRequest(
            model=body.model,
            max_tokens=body.max_tokens,
            system=_text(body.system),
            user="\n".join(_text(m.content) for m in body.messages if m.role == "user"),
            headers=dict(request.headers),
            body=msgspec.json.decode(raw),
        )
        self.requests.append(received)
        step = self._steps.popleft() if self._steps else None
        if self.latency_s:
            await anyio.sleep(self.latency_s)
        match step:
            case Fail():
                headers = {} if step.retry_after is None else {"retry-after": f"{step.retry_after:g}"}
                return _error(step.status, step.error_type, step.message, request_id, headers)
            case Raw():
                return Response(
                    step.body,
                    status_code=step.status,
                    media_type=step.content_type,
                    headers={"request-id": request_id},
                )
            case Stall():
                if await _stalled_out(request, step.seconds):
                    return Response(status_code=499)
                step = step.then
        reply = step if isinstance(step, Reply) else Reply(text=self.responder(received))
        return self._reply(received, reply, request_id)

    def _reply(self, req: ReceivedRequest, reply: Reply, request_id: str) -> Response:
        input_tokens = reply.input_tokens
        if input_tokens is None:
            input_tokens = estimate_tokens(req.system) + estimate_tokens(req.user)
        output_tokens = reply.output_tokens
        if output_tokens is None:
            output_tokens = estimate_tokens(reply.text)
        return JSONResponse(
            {
                "id": f"msg_fake{self._ids:016d}",
                "type": "message",
                "role": "assistant",
                "model": req.model,
                "content": [{"type": "text", "text": reply.text}],
                "stop_reason": reply.stop_reason,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": input_tokens,
                    "output_tokens": output_tokens,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                },
            },
            headers={"request-id": request_id},
        )


async def _stalled_out(request: Request, seconds: float) -> bool:
    """Wait ``seconds``; True when the client hung up meanwhile (its timeout fired)."""
    with anyio.move_on_after(seconds):
        while not await request.is_disconnected():
            await anyio.sleep(0.01)
        return True
    return False


def _api_key(request: Request) -> str | None:
    """The key as the SDK sends it: ``x-api-key``, or ``Authorization: Bearer`` (SDK 2.x)."""
    if key := request.headers.get("x-api-key"):
        return key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def _text(content: str | list[_Block]) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(b.text for b in content if b.type == "text")


def _error(
    status: int,
    error_type: str,
    message: str,
    request_id: str,
    headers: dict[str, str] | None = None,
) -> Response:
    return JSONResponse(
        {
            "type": "error",
            "error": {"type": error_type, "message": message},
            "request_id": request_id,
        },
        status_code=status,
        headers={"request-id": request_id, **(headers or {})},
    )


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with hypercorn on a loopback port chosen by the OS; yields its base URL."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]
    config.graceful_timeout = 0.2
    config.accesslog = None
    config.errorlog = None
    stop = anyio.Event()
    failure: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(app, config, shutdown_trigger=stop.wait))
        try:
            yield f"http://127.0.0.1:{port}"
        except Exception as exc:  # let the server shut down cleanly, then re-raise
            failure = exc
        finally:
            stop.set()
    if failure is not None:
        raise failure
