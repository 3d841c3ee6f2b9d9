"""Every error the API returns: an HTTP status and a machine-readable code, rendered as
`{"error": {"code": "...", "message": "...", "detail": ...}}`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from clash.http.bodies import json_response


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail


def not_found(what: str, key: object) -> ApiError:
    return ApiError(404, "not_found", f"no {what} {key}")


async def render_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.detail is not None:
        body["detail"] = exc.detail
    return json_response({"error": body}, status=exc.status)
