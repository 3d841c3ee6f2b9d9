"""A fake Anthropic API (``POST /v1/messages``, ``GET /v1/models``) in the real wire format, for
tests and benches.

The real SDK is pointed at it with ``base_url``. Behaviour is scripted: a queue of steps consumed one
per request in arrival order (an answer, an HTTP error in Anthropic's error shape, a stall to force a
client timeout, a raw body), then a default responder. Every request is recorded (model, system,
user text, headers) so tests can assert the prompt sent, and that the cache spared a call.

Headers are checked as the real API does: an API key (``x-api-key``, or ``Authorization: Bearer``
as the installed SDK 2.x sends it; else 401 ``authentication_error``) and ``anthropic-version``
(else 400 ``invalid_request_error``). The body must be JSON with ``model``, ``max_tokens`` and
``messages`` and no unknown field. It speaks what current models do (platform.claude.com, the
models overview and each model's migration guide):

- the model must be one it serves (``models``; else 404 ``not_found_error``) and ``max_tokens`` at
  most that model's output limit;
- sampling parameters (``temperature``, ``top_p``, ``top_k``) are a 400
  ``invalid_request_error``; so is a manual thinking budget (``thinking: {type: enabled,
  budget_tokens}``) on an adaptive-thinking model, adaptive thinking on a model without it, and
  ``output_config.effort`` on a model without effort;
- with adaptive thinking the content starts with a ``thinking`` block (empty text, as at the
  default ``display: omitted``, plus a signature), then the text; thinking tokens count in
  ``usage.output_tokens`` and against ``max_tokens``: a reply that does not fit is cut and stops
  with ``max_tokens``;
- a ``refusal`` stop carries ``stop_details`` (``refusal()`` scripts one).
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
    """None: the thinking tokens plus the text's estimate."""
    stop_reason: str = "end_turn"
    thinking_tokens: int = 0
    """Tokens the model thinks before answering (billed as output, counted against
    ``max_tokens``); a thinking block is sent when this is set or the request asked for adaptive
    thinking."""
    refusal_explanation: str | None = None


class FakeModel(msgspec.Struct, frozen=True, kw_only=True):
    """A model the fake serves and lists, with the capabilities it checks requests against."""

    id: str
    display_name: str
    created_at: str
    adaptive_thinking: bool = True
    effort: bool = True
    max_tokens: int = 128_000
    max_input_tokens: int = 1_000_000
    lifecycle: Literal["active", "deprecated", "retired"] = "active"


def _model(model_id: str, name: str, created: str, **caps: Any) -> FakeModel:
    return FakeModel(id=model_id, display_name=name, created_at=f"{created}T00:00:00Z", **caps)


CURRENT_MODELS: tuple[FakeModel, ...] = (
    _model("claude-sonnet-5-5", "Claude Sonnet 5.5", "2026-09-24"),
    _model("claude-opus-5-5", "Claude Opus 5.5", "2026-09-17"),
    _model("claude-fable-5-1", "Claude Fable 5.1", "2026-09-10"),
    _model("claude-opus-5", "Claude Opus 5", "2026-07-24"),
    _model("claude-sonnet-5", "Claude Sonnet 5", "2026-06-30"),
    _model(
        "claude-haiku-4-5",
        "Claude Haiku 4.5",
        "2025-10-01",
        adaptive_thinking=False,
        effort=False,
        max_tokens=64_000,
        max_input_tokens=200_000,
    ),
)
"""Newest first, as the real listing orders them (dates are the fake's, not the provider's)."""


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


def refusal(explanation: str | None = "The request touches an area determined harmful.") -> Reply:
    return Reply(text="", stop_reason="refusal", refusal_explanation=explanation)


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


class _Thinking(msgspec.Struct):
    type: str
    budget_tokens: int | None = None
    display: str | None = None


class _OutputConfig(msgspec.Struct):
    effort: str | None = None


class _Body(msgspec.Struct, forbid_unknown_fields=True):
    model: str
    max_tokens: int
    messages: list[_Message]
    system: str | list[_Block] = ""
    stream: bool = False
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    thinking: _Thinking | None = None
    output_config: _OutputConfig | None = None
    metadata: dict[str, Any] | None = None


_EFFORTS = ("low", "medium", "high", "xhigh", "max")


class FakeMessagesApi:
    def __init__(
        self,
        responder: Responder = hold_responder,
        *,
        latency_s: float = 0.0,
        models: tuple[FakeModel, ...] = CURRENT_MODELS,
    ) -> None:
        self.responder = responder
        self.latency_s = latency_s
        self.models = {m.id: m for m in models}
        self.requests: list[ReceivedRequest] = []
        """Message requests that passed the checks (a 400 or 404 is not recorded)."""
        self.model_listings = 0
        """``GET /v1/models`` pages served."""
        self._steps: deque[Step] = deque()
        self._ids = 0
        self.app = Starlette(
            routes=[
                Route("/v1/messages", self._messages, methods=["POST"]),
                Route("/v1/models", self._list_models, methods=["GET"]),
            ]
        )

    def script(self, *steps: Step) -> None:
        self._steps.extend(steps)

    @property
    def pending(self) -> int:
        return len(self._steps)

    def _headers_error(self, request: Request, request_id: str) -> Response | None:
        if not _api_key(request):
            return _error(401, "authentication_error", "x-api-key header is required", request_id)
        if not request.headers.get("anthropic-version"):
            return _error(
                400, "invalid_request_error", "anthropic-version: header is required", request_id
            )
        return None

    async def _list_models(self, request: Request) -> Response:
        self._ids += 1
        request_id = f"req_fake{self._ids:016d}"
        if failed := self._headers_error(request, request_id):
            return failed
        try:
            limit = int(request.query_params.get("limit", "20"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 1000:
            message = "limit: must be within [1, 1000]"
            return _error(400, "invalid_request_error", message, request_id)
        models = list(self.models.values())
        ids = [m.id for m in models]
        if (after := request.query_params.get("after_id")) in ids:
            models = models[ids.index(after) + 1 :]
        elif (before := request.query_params.get("before_id")) in ids:
            models = models[: ids.index(before)][-limit:]
        page, more = models[:limit], len(models) > limit
        self.model_listings += 1
        return JSONResponse(
            {
                "data": [_model_info(m) for m in page],
                "has_more": more,
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
            },
            headers={"request-id": request_id},
        )

    async def _messages(self, request: Request) -> Response:
        self._ids += 1
        request_id = f"req_fake{self._ids:016d}"
        if failed := self._headers_error(request, request_id):
            return failed
        raw = await request.body()
        try:
            body = msgspec.json.decode(raw, type=_Body)
        except msgspec.DecodeError as exc:
            return _error(400, "invalid_request_error", str(exc), request_id)
        if rejected := self._check(body, request_id):
            return rejected
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
                headers = (
                    {} if step.retry_after is None else {"retry-after": f"{step.retry_after:g}"}
                )
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
        adaptive = body.thinking is not None and body.thinking.type == "adaptive"
        return self._reply(received, reply, request_id, thinking=adaptive)

    def _check(self, body: _Body, request_id: str) -> Response | None:
        """The 400s and 404s current models answer (see the module docstring)."""

        def bad(message: str) -> Response:
            return _error(400, "invalid_request_error", message, request_id)

        model = self.models.get(body.model)
        if model is None:
            return _error(404, "not_found_error", f"model: {body.model}", request_id)
        if not 1 <= body.max_tokens <= model.max_tokens:
            return bad(
                f"max_tokens: {body.max_tokens} > {model.max_tokens}, which is the maximum allowed "
                f"number of output tokens for {model.id}"
                if body.max_tokens > 0
                else "max_tokens: must be at least 1"
            )
        for name in ("temperature", "top_p", "top_k"):
            if getattr(body, name) is not None:
                return bad(
                    f"{name}: sampling parameters are not supported for {model.id}; "
                    "use output_config.effort"
                )
        thinking = body.thinking
        if thinking is not None and thinking.type == "enabled" and model.adaptive_thinking:
            return bad(
                '"thinking.type.enabled" is not supported for this model. Use '
                '"thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'
            )
        if thinking is not None and thinking.type == "adaptive" and not model.adaptive_thinking:
            return bad(f'"thinking.type.adaptive" is not supported for {model.id}')
        if thinking is not None and thinking.type not in ("adaptive", "enabled", "disabled"):
            return bad(f"thinking.type: unknown type {thinking.type!r}")
        effort = body.output_config.effort if body.output_config else None
        if effort is not None and not model.effort:
            return bad(f"output_config.effort: effort is not supported for {model.id}")
        if effort is not None and effort not in _EFFORTS:
            return bad(f"output_config.effort: must be one of {', '.join(_EFFORTS)}")
        return None

    def _reply(
        self, req: ReceivedRequest, reply: Reply, request_id: str, *, thinking: bool
    ) -> Response:
        input_tokens = reply.input_tokens
        if input_tokens is None:
            input_tokens = estimate_tokens(req.system) + estimate_tokens(req.user)
        thought = reply.thinking_tokens
        content: list[dict[str, Any]] = []
        if thinking or thought:
            signature = f"sig_fake{self._ids:016d}"
            content.append({"type": "thinking", "thinking": "", "signature": signature})
        text, stop_reason = reply.text, reply.stop_reason
        output_tokens = reply.output_tokens
        if output_tokens is None:
            output_tokens = thought + estimate_tokens(text)
        if output_tokens > req.max_tokens:  # thinking and answer share max_tokens: cut the answer
            room = max(0, req.max_tokens - thought)
            wanted = max(1, output_tokens - thought)
            text = text[: len(text) * room // wanted]
            output_tokens, stop_reason = req.max_tokens, "max_tokens"
        if text or not content:
            content.append({"type": "text", "text": text})
        stop_details = None
        if stop_reason == "refusal":
            stop_details = {
                "type": "refusal",
                "category": None,
                "explanation": reply.refusal_explanation,
            }
        return JSONResponse(
            {
                "id": f"msg_fake{self._ids:016d}",
                "type": "message",
                "role": "assistant",
                "model": req.model,
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "stop_details": stop_details,
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
        while not await request.is_disconnected():  # noqa: ASYNC110 (starlette offers no event)
            await anyio.sleep(0.01)
        return True
    return False


def _model_info(model: FakeModel) -> dict[str, Any]:
    return {
        "type": "model",
        "id": model.id,
        "display_name": model.display_name,
        "created_at": model.created_at,
        "lifecycle": model.lifecycle,
        "deprecated_at": None,
        "retires_at": None,
        "max_input_tokens": model.max_input_tokens,
        "max_tokens": model.max_tokens,
    }


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
