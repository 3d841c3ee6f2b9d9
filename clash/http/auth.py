"""Request identity. A resolver turns a request into a user id.

`BearerIdentity` takes `Authorization: Bearer <access JWT>` from sign-in (clash.auth) and answers
the user id as a decimal string: other modules still store owners as strings until their owners
migrate to integer user ids. The development fallback trusts an `x-user-id` header; boot refuses
it in production. Admin routes take `Authorization: Bearer <CLASH_ADMIN_TOKEN>`.
"""

from __future__ import annotations

import hmac
from typing import Protocol

from starlette.requests import Request

from clash.auth import AuthModule
from clash.http.bodies import NAME_FORBIDDEN
from clash.http.errors import ApiError

MAX_NAME = 128


def _header_name(value: str, header: str) -> str:
    """A user or admin name from a header: one line of at most MAX_NAME characters (400 else)."""
    if len(value) > MAX_NAME or NAME_FORBIDDEN.search(value):
        message = f"{header} must be at most {MAX_NAME} printable characters"
        raise ApiError(400, "invalid_header", message)
    return value


class IdentityResolver(Protocol):
    async def resolve(self, request: Request) -> str | None: ...


class DevHeaderIdentity:
    header = "x-user-id"

    async def resolve(self, request: Request) -> str | None:
        value = request.headers.get(self.header, "").strip()
        return _header_name(value, self.header) or None


def bearer_token(request: Request) -> str | None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return None
    return given.strip()


class BearerIdentity:
    """A valid access JWT names the user; a bad or expired one is a 401 (`invalid_token`,
    `token_expired`), not an anonymous request. Without a bearer token, `fallback` decides."""

    def __init__(self, auth: AuthModule, fallback: IdentityResolver | None = None) -> None:
        self.auth = auth
        self.fallback = fallback

    async def resolve(self, request: Request) -> str | None:
        token = bearer_token(request)
        admin: str | None = request.app.state.admin_token
        if token is None or (admin and hmac.compare_digest(token.encode(), admin.encode())):
            # The admin token names a machine, not a user.
            return await self.fallback.resolve(request) if self.fallback else None
        return self.auth.authenticate(token).sub


class NoIdentity:
    async def resolve(self, request: Request) -> str | None:
        return None


async def current_user(request: Request) -> str | None:
    resolver: IdentityResolver = request.app.state.identity
    return await resolver.resolve(request)


async def require_user(request: Request) -> str:
    user = await current_user(request)
    if user is None:
        raise ApiError(401, "unauthenticated", "sign in first")
    return user


def require_admin(request: Request) -> str:
    """Check the admin bearer token; returns the admin's name for audit rows."""
    token: str | None = request.app.state.admin_token
    if not token:
        raise ApiError(403, "admin_disabled", "no admin token is configured (CLASH_ADMIN_TOKEN)")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise ApiError(401, "bad_admin_token", "a valid admin bearer token is required")
    name = _header_name(request.headers.get("x-admin-name", "admin").strip(), "x-admin-name")
    return name or "admin"
