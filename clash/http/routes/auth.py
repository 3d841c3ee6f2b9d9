"""Sign-in with Ethereum, sessions and the signed-in user (clash.auth)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clash.auth import AuthError, AuthModule, SessionInfo
from clash.http.auth import bearer_token
from clash.http.bodies import decode_body, json_response

_ADDRESS = Annotated[str, Meta(min_length=1, max_length=64)]


class ChallengeRequest(msgspec.Struct, forbid_unknown_fields=True):
    address: _ADDRESS
    chain_id: Annotated[int, Meta(ge=1, le=2**53)] | None = None


class Challenge(msgspec.Struct):
    message: str


class VerifyRequest(msgspec.Struct, forbid_unknown_fields=True):
    message: Annotated[str, Meta(min_length=1, max_length=4096)]
    signature: Annotated[str, Meta(min_length=1, max_length=4096)]


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, Meta(min_length=1, max_length=512)]


class Sessions(msgspec.Struct):
    items: list[SessionInfo]


def _auth(request: Request) -> AuthModule:
    return request.app.state.runtime.module(AuthModule)


def _limit(request: Request, address: str) -> None:
    """One token from the caller's IP bucket and one from the address's (429 when either is dry)."""
    auth = _auth(request)
    auth.check_rate(f"ip:{request.client.host if request.client else '-'}")
    auth.check_rate(f"address:{address.strip().lower()[:64]}")


async def challenge(request: Request) -> Response:
    body = await decode_body(request, ChallengeRequest)
    _limit(request, body.address)
    return json_response(Challenge(await _auth(request).challenge(body.address, body.chain_id)))


async def verify(request: Request) -> Response:
    body = await decode_body(request, VerifyRequest)
    lines = body.message.split("\n", 2)
    _limit(request, lines[1] if len(lines) > 1 else "")
    return json_response(await _auth(request).verify(body.message, body.signature))


async def refresh(request: Request) -> Response:
    body = await decode_body(request, RefreshRequest)
    return json_response(await _auth(request).refresh(body.refresh_token))


def _signed_in(request: Request) -> tuple[int, int]:
    """The user id and session id of the request's access token (401 without one)."""
    token = bearer_token(request)
    if token is None:
        raise AuthError("unauthenticated", "sign in first: Authorization: Bearer <access token>")
    claims = _auth(request).authenticate(token)
    return int(claims.sub), claims.sid


async def logout(request: Request) -> Response:
    user, session = _signed_in(request)
    await _auth(request).revoke_session(user, session)
    return Response(status_code=204)


async def list_sessions(request: Request) -> Response:
    user, session = _signed_in(request)
    return json_response(Sessions(await _auth(request).sessions(user, session)))


async def delete_session(request: Request) -> Response:
    user, _ = _signed_in(request)
    await _auth(request).revoke_session(user, request.path_params["session_id"])
    return Response(status_code=204)


async def me(request: Request) -> Response:
    user, _ = _signed_in(request)
    return json_response(await _auth(request).me(user))


routes = [
    Route("/api/v1/auth/challenge", challenge, methods=["POST"]),
    Route("/api/v1/auth/verify", verify, methods=["POST"]),
    Route("/api/v1/auth/refresh", refresh, methods=["POST"]),
    Route("/api/v1/auth/logout", logout, methods=["POST"]),
    Route("/api/v1/auth/sessions", list_sessions, methods=["GET"]),
    Route("/api/v1/auth/sessions/{session_id:id}", delete_session, methods=["DELETE"]),
    Route("/api/v1/me", me, methods=["GET"]),
]
