"""Request and response bodies: msgspec in, msgspec out, every outside value bounded at the edge.

A JSON body is read under `http.max_body_bytes` (`BodyLimit`), must say it is JSON when it says
anything (415), and is checked before it is decoded into its type: nesting depth, duplicate keys,
integers within SQLite's signed 64 bits, numbers finite and of a sane magnitude, and no control
characters in any string (NUL, ANSI escapes, C1 codes, bidi overrides). After decoding, the same
number and text rules run over the typed value, so a Decimal decoded from "NaN" or "1e999999" is
refused too. A refusal is an `ApiError` with a code; nothing reaches a module or an actor.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable, MutableMapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from clash.http.errors import ApiError

T = TypeVar("T")

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_DEPTH = 32
MAX_MAGNITUDE = Decimal("1e15")
"""No number in a body is larger than this (money in micro-USD stays under it, prices far under)."""
MIN_EXPONENT = -18
"""Decimals carry at most 18 places."""

_TEXT_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters refused in any string: C0 but tab and newlines, DEL, C1, bidi overrides."""
NAME_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Names are one line: no tab or newline either."""

_encoder = msgspec.json.Encoder(decimal_format="string")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        _encoder.encode(body), status_code=status, media_type="application/json", headers=headers
    )


# -- the body limit --------------------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def too_large(limit: int) -> ApiError:
    return ApiError(413, "body_too_large", f"the request body is larger than {limit} bytes")


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` is refused while it is read (413), before
    any handler decodes it; a declared Content-Length over the limit is refused at the first read."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            if declared.isdigit() and int(declared) > limit:
                raise too_large(limit)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise too_large(limit)
            return message

        await self.app(scope, limited, send)


# -- JSON bodies -----------------------------------------------------------------------------------


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def json_bytes(request: Request) -> bytes:
    """The raw body of a JSON route, checked (see the module docstring) but not yet typed."""
    content_type = request.headers.get("content-type")
    raw = await request.body()
    if content_type is not None and not _is_json(content_type):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the body as application/json, not {content_type[:100]!r}",
        )
    check_json(raw)
    return raw


async def decode_body(request: Request, type_: type[T]) -> T:
    """Decode the JSON body strictly into `type_`; a bad body is a 4xx naming the field."""
    return decode_checked(await json_bytes(request), type_, "invalid_body")


async def decode_optional_body(request: Request, type_: type[T], default: T) -> T:
    """As `decode_body`, but an empty body is `default`."""
    raw = await request.body()
    return default if not raw.strip() else await decode_body(request, type_)


def decode_checked(raw: bytes | msgspec.Raw, type_: type[T], code: str) -> T:
    """msgspec-decode already checked JSON into `type_`, then check the typed value (422 `code`)."""
    try:
        value = msgspec.json.decode(raw, type=type_, strict=True)
    except msgspec.ValidationError as exc:
        raise ApiError(422, code, str(exc)) from None
    except msgspec.DecodeError as exc:
        raise ApiError(400, "malformed_json", str(exc)) from None
    check_values(value)
    return value


class _Refused(Exception):
    def __init__(self, error: ApiError) -> None:
        self.error = error


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


def _too_deep(raw: bytes) -> bool:
    depth = 0
    for m in _BRACKETS.finditer(_STRINGS.sub(b'""', raw)):
        if m[0] in b"[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        else:
            depth -= 1
    return False


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            message = f"the key {key[:100]!r} appears twice in one object"
            raise _Refused(ApiError(400, "duplicate_key", message))
        out[key] = value
    return out


def _int(text: str) -> int:
    if len(text) > 20 or not INT64_MIN <= int(text) <= INT64_MAX:
        message = f"the integer {text[:30]} is outside the signed 64-bit range"
        raise _Refused(number_error("$", message))
    return int(text)


def _float(text: str) -> float:
    bad = _bad_decimal(Decimal(text), places=False)
    if bad:
        raise _Refused(number_error("$", f"{text[:30]}: {bad}"))
    return float(text)


def _constant(text: str) -> float:
    raise _Refused(number_error("$", f"{text} is not a number"))


def check_json(raw: bytes) -> None:
    """Syntax, depth, duplicate keys, number ranges and control characters of a JSON document."""
    if _too_deep(raw):
        raise ApiError(400, "json_too_deep", f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        doc = json.loads(
            raw,
            object_pairs_hook=_pairs,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
        )
    except _Refused as refused:
        raise refused.error from None
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not JSON: {exc}") from None
    _check_strings(doc, "$")


def _check_strings(value: Any, path: str) -> None:
    if isinstance(value, str):
        check_text(value, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, f"{path} key")
            _check_strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_strings(item, f"{path}[{i}]")


# -- values ----------------------------------------------------------------------------------------


def number_error(path: str, message: str) -> ApiError:
    return ApiError(422, "invalid_number", f"{message} - at `{path}`")


def _bad_decimal(value: Decimal, *, places: bool = True) -> str | None:
    if not value.is_finite():
        return "NaN and infinities are not numbers"
    if abs(value) > MAX_MAGNITUDE:
        return f"the magnitude is over {MAX_MAGNITUDE:.0e}"
    exponent = value.as_tuple().exponent
    if places and isinstance(exponent, int) and exponent < MIN_EXPONENT and value != 0:
        return f"more than {-MIN_EXPONENT} decimal places"
    return None


def check_number(value: int | float | Decimal, path: str) -> None:
    """Refuse NaN, infinities, absurd magnitudes and integers outside SQLite's 64 bits (422)."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise number_error(path, "the integer is outside the signed 64-bit range")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise number_error(path, "NaN and infinities are not numbers")
        value = Decimal(repr(value))
        bad = _bad_decimal(value, places=False)
    else:
        try:
            bad = _bad_decimal(value)
        except InvalidOperation:
            bad = "not a number"
    if bad:
        raise number_error(path, bad)


def check_text(value: str, path: str) -> None:
    """Refuse control characters in free text (tab and newlines pass) with 422 `invalid_text`."""
    if m := _TEXT_FORBIDDEN.search(value):
        raise ApiError(422, "invalid_text", f"control character U+{ord(m[0]):04X} - at `{path}`")


def check_name(value: str | None, path: str) -> None:
    """A name is one line of text that is not empty once trimmed (422 `invalid_text`)."""
    if value is None:
        return
    if m := NAME_FORBIDDEN.search(value):
        raise ApiError(422, "invalid_text", f"control character U+{ord(m[0]):04X} - at `{path}`")
    if not value.strip():
        raise ApiError(422, "invalid_text", f"empty once trimmed - at `{path}`")


def check_values(value: Any, path: str = "$") -> None:
    """Walk a decoded value (Structs, lists, dicts) and check every number and string in it."""
    if isinstance(value, (int, float, Decimal)):
        check_number(value, path)
    elif isinstance(value, str):
        check_text(value, path)
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            check_values(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_values(key, f"{path} key")
            check_values(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, item in enumerate(value):
            check_values(item, f"{path}[{i}]")


# -- query parameters ------------------------------------------------------------------------------


def query_int(
    request: Request, name: str, default: int, *, lo: int = 0, hi: int = INT64_MAX
) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    raw = raw.strip()
    if not re.fullmatch(r"[+-]?[0-9]{1,19}", raw):
        raise ApiError(422, "invalid_query", f"{name} must be an integer, got {raw[:40]!r}")
    value = int(raw)
    if not lo <= value <= hi:
        raise ApiError(422, "invalid_query", f"{name} must be between {lo} and {hi}, got {value}")
    return value


def query_str(request: Request, name: str, *, max_length: int = 100) -> str | None:
    """A short text query parameter (None when absent or empty)."""
    raw = request.query_params.get(name, "").strip()
    if len(raw) > max_length:
        raise ApiError(422, "invalid_query", f"{name} is longer than {max_length} characters")
    if NAME_FORBIDDEN.search(raw):
        raise ApiError(422, "invalid_query", f"{name} contains a control character")
    return raw or None
