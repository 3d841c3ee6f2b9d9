"""The Starlette app: one routes file per module, every error an `ApiError` with a code."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from clash.http.auth import DevHeaderIdentity, IdentityResolver, NoIdentity
from clash.http.bodies import json_response
from clash.http.errors import ApiError, render_api_error
from clash.http.routes import admin, clones, decisions, health, ingestion, prop, trading
from clash.runtime import Runtime


def all_routes() -> list[BaseRoute]:
    return [*health.routes, *admin.routes, *ingestion.routes, *clones.routes, *trading.routes, *prop.routes,
            *decisions.routes]


async def render_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return json_response({"error": {"code": code, "message": exc.detail}}, status=exc.status_code)


async def render_unexpected(request: Request, exc: Exception) -> Response:
    return json_response({"error": {"code": "internal", "message": "internal error"}}, status=500)


def create_app(rt: Runtime, identity: IdentityResolver | None = None) -> Starlette:
    app = Starlette(
        routes=all_routes(),
        exception_handlers={
            ApiError: render_api_error,
            HTTPException: render_http_error,
            Exception: render_unexpected,
        },
    )
    app.state.runtime = rt
    app.state.identity = identity or (DevHeaderIdentity() if rt.config.http.dev_identity_header else NoIdentity())
    app.state.admin_token = rt.secrets.admin_token
    return app
