"""Drive a running server with the same typed messages the REPL uses."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors import ActorCrashed, ActorStopped, AskTimeout, UnknownActor, decode_message
from clash.http.auth import require_admin
from clash.http.bodies import check_values, decode_body, json_response
from clash.http.errors import ApiError
from clash.ops import OpsModule
from clash.runtime import Runtime


class AdminMessage(msgspec.Struct, forbid_unknown_fields=True):
    to: Annotated[str, Meta(min_length=1, max_length=200)]
    message: msgspec.Raw
    timeout_s: Annotated[float, Meta(gt=0, le=300)] = 10.0


class AdminReply(msgspec.Struct):
    to: str
    reply: Any


def _encodable(value: Any) -> Any:
    try:
        msgspec.json.encode(value)
        return value
    except TypeError:
        return repr(value)


async def send_message(request: Request) -> Response:
    admin = require_admin(request)
    rt: Runtime = request.app.state.runtime
    body = await decode_body(request, AdminMessage)
    try:
        ref = rt.system.ref(body.to)
    except UnknownActor:
        raise ApiError(404, "unknown_actor", f"no actor named {body.to!r}") from None
    try:
        message = decode_message(body.message)
    except msgspec.ValidationError as exc:
        raise ApiError(422, "invalid_message", str(exc)) from None
    check_values(message, "$.message")  # a NaN or an absurd number never reaches an actor
    ops = rt.module(OpsModule)
    try:
        reply = await ref.ask(message, timeout=body.timeout_s)
    except AskTimeout as exc:
        await ops.audit_admin_message(admin, body.to, message, "timeout")
        raise ApiError(504, "actor_timeout", str(exc)) from None
    except (ActorCrashed, ActorStopped) as exc:
        await ops.audit_admin_message(admin, body.to, message, "failed")
        raise ApiError(409, "actor_failed", str(exc)) from None
    await ops.audit_admin_message(admin, body.to, message, "ok")
    return json_response(AdminReply(to=body.to, reply=_encodable(reply)))


async def list_actors(request: Request) -> Response:
    require_admin(request)
    rt: Runtime = request.app.state.runtime
    return json_response(sorted(rt.system.names()))


routes = [
    Route("/api/v1/admin/messages", send_message, methods=["POST"]),
    Route("/api/v1/admin/actors", list_actors, methods=["GET"]),
]
