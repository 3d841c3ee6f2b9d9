"""Every error the API returns: an HTTP status and a machine-readable code, rendered as
`{"error": {"code": "...", "message": "...", "detail": ...}}`.

This is the one HTTP error layer: routes raise `ApiError` for what they check themselves and let
module errors through; `EXCEPTION_HANDLERS` (registered by the app) renders each module's error
class, mapping its code to a status with `MODULE_STATUS`. Every rejected request is logged with
its method, path, status and code; a 5xx at error level with its traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clash.auth import AuthError, RateLimited
from clash.clones import CloneError
from clash.prop import AccountFinalized, AccountNotFound
from clash.trading import TradingError

log = logging.getLogger(__name__)

_encoder = msgspec.json.Encoder(decimal_format="string")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail


def not_found(what: str, key: object) -> ApiError:
    return ApiError(404, "not_found", f"no {what} {key}")


MODULE_STATUS: dict[str, int] = {
    "clone_not_found": 404,
    "version_not_found": 404,
    "profile_not_found": 404,
    "decision_not_found": 404,
    "account_not_found": 404,
    "symbol_not_connected": 404,
    "unknown_source_family": 404,
    "not_owner": 403,
    "own_profile": 403,
    "clone_archived": 409,
    "account_finalized": 409,
    "account_in_use": 409,
    "too_many_accounts": 409,
    "no_changes": 409,
    "no_published_version": 409,
    "already_reported": 409,
    "already_retired": 409,
    "nothing_to_reinstate": 409,
    "revision_mismatch": 412,
    "invalid_graph": 422,
    "invalid_choices": 422,
    "model_strength_not_allowed": 422,
    "too_many_active_assets": 422,
    "empty_universe": 422,
    "invalid_cursor": 422,
    "account_state_is_live": 422,
    "account_not_of_clone": 422,
    "as_of_in_future": 422,
    "invalid_query": 422,
}
"""The HTTP status of each code a module error (`CloneError`, `TradingError`) carries; 400 else."""


def _log(request: Request, status: int, code: str, exc: BaseException | None = None) -> None:
    extra = {"method": request.method, "path": request.url.path, "status": status, "code": code}
    if status >= 500:
        log.error(
            "request failed: %s %s -> %s %s",
            request.method,
            request.url.path,
            status,
            code,
            extra=extra,
            exc_info=exc,
        )
    else:
        level = logging.WARNING if status in (401, 403, 413) else logging.INFO
        log.log(
            level,
            "request refused: %s %s -> %s %s",
            request.method,
            request.url.path,
            status,
            code,
            extra=extra,
        )


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    detail: Any = None,
    headers: dict[str, str] | None = None,
    exc: BaseException | None = None,
) -> Response:
    _log(request, status, code, exc)
    body: dict[str, Any] = {"code": code, "message": message}
    if detail is not None:
        body["detail"] = detail
    return Response(
        _encoder.encode({"error": body}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


async def render_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request, exc.status, exc.code, exc.message, exc.detail)


async def render_module_error(request: Request, exc: Exception) -> Response:
    """A `CloneError` or `TradingError`: its code decides the status."""
    assert isinstance(exc, (CloneError, TradingError))
    detail = exc.detail if isinstance(exc, CloneError) else None
    return error_response(request, MODULE_STATUS.get(exc.code, 400), exc.code, exc.message, detail)


async def render_account_not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AccountNotFound)
    return error_response(request, 404, "account_not_found", f"no prop account {exc.account_id!r}")


async def render_account_finalized(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AccountFinalized)
    message = f"prop account {exc.account_id!r} is finalized"
    return error_response(request, 409, "account_finalized", message)


async def render_auth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return error_response(request, exc.status, exc.code, exc.message, headers=headers)


async def render_rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    seconds = str(max(1, -(-exc.retry_after_ms // 1000)))
    message = f"too many sign-in requests; retry in {seconds} s"
    return error_response(request, 429, "rate_limited", message, headers={"Retry-After": seconds})


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this request's path."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(request.url.path):
            methods |= route.methods
    return sorted(methods)


async def render_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request)) or headers.get("Allow", "")
        message = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
        return error_response(request, 405, "method_not_allowed", message, headers=headers)
    code = {404: "not_found"}.get(exc.status_code, "http_error")
    return error_response(request, exc.status_code, code, exc.detail, headers=headers or None)


async def render_unexpected(request: Request, exc: Exception) -> Response:
    return error_response(request, 500, "internal", "internal error", exc=exc)


Handler = Callable[[Request, Exception], Awaitable[Response]]

EXCEPTION_HANDLERS: dict[Any, Handler] = {
    ApiError: render_api_error,
    CloneError: render_module_error,
    TradingError: render_module_error,
    AccountNotFound: render_account_not_found,
    AccountFinalized: render_account_finalized,
    AuthError: render_auth_error,
    RateLimited: render_rate_limited,
    HTTPException: render_http_error,
    Exception: render_unexpected,
}
"""Every error class the app renders; tests that mount a few routes on their own app use it too."""
