"""The Starlette app: one routes file per module, every error rendered by `clash.http.errors`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from clash.auth import AuthModule
from clash.http.auth import BearerIdentity, DevHeaderIdentity, IdentityResolver, NoIdentity
from clash.http.bodies import BodyLimit
from clash.http.errors import EXCEPTION_HANDLERS, render_http_error
from clash.http.routes import (
    admin,
    assets,
    auth,
    clones,
    decisions,
    health,
    ingestion,
    prop,
    trading,
)
from clash.runtime import Runtime

__all__ = ["all_routes", "create_app", "render_http_error"]


def all_routes() -> list[BaseRoute]:
    return [
        *health.routes,
        *admin.routes,
        *auth.routes,
        *ingestion.routes,
        *assets.routes,
        *clones.routes,
        *trading.routes,
        *prop.routes,
        *decisions.routes,
    ]


def create_app(rt: Runtime, identity: IdentityResolver | None = None) -> Starlette:
    app = Starlette(
        routes=all_routes(),
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[Middleware(BodyLimit, max_bytes=rt.config.http.max_body_bytes)],
    )
    app.state.runtime = rt
    dev: IdentityResolver = (
        DevHeaderIdentity() if rt.config.http.dev_identity_header else NoIdentity()
    )
    signin = rt.find(AuthModule)
    app.state.identity = identity or (BearerIdentity(signin, dev) if signin else dev)
    app.state.admin_token = rt.secrets.admin_token
    return app
