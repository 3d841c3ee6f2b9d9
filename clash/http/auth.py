"""Request identity. A resolver turns a request into a user id; sign-in (SIWE + JWT) plugs in here later.

Until then the development fallback trusts an `x-user-id` header; boot refuses it in production.
Admin routes take `Authorization: Bearer <CLASH_ADMIN_TOKEN>`.
"""

from __future__ import annotations

import hmac
from typing import Protocol

from starlette.requests import Request

from clash.http.errors import ApiError


class IdentityResolver(Protocol):
    async def resolve(self, request: Request) -> str | None: ...


class DevHeaderIdentity:
    header = "x-user-id"

    async def resolve(self, request: Request) -> str | None:
        value = request.headers.get(self.header, "").strip()
        return value or None


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
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ApiError(401, "bad_admin_token", "a valid admin bearer token is required")
    return request.headers.get("x-admin-name", "admin").strip() or "admin"
