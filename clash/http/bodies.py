"""Request and response bodies: msgspec in, msgspec out."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

T = TypeVar("T")

_encoder = msgspec.json.Encoder(decimal_format="string")


def json_response(body: Any, status: int = 200) -> Response:
    return Response(_encoder.encode(body), status_code=status, media_type="application/json")


async def decode_body(request: Request, type_: type[T]) -> T:
    """Decode the JSON body strictly into `type_`; a bad body is a 422 naming the field."""
    from clash.http.errors import ApiError

    raw = await request.body()
    try:
        return msgspec.json.decode(raw, type=type_, strict=True)
    except msgspec.ValidationError as exc:
        raise ApiError(422, "invalid_body", str(exc)) from None
    except msgspec.DecodeError as exc:
        raise ApiError(400, "malformed_json", str(exc)) from None


def query_int(request: Request, name: str, default: int, *, lo: int = 0, hi: int = 10**12) -> int:
    from clash.http.errors import ApiError

    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, "invalid_query", f"{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ApiError(422, "invalid_query", f"{name} must be between {lo} and {hi}, got {value}")
    return value
