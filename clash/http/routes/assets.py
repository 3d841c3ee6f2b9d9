"""The asset picker: the registry (`GET /api/v1/assets`) and the seed 004 category tree with counts
(`GET /api/v1/assets/categories`).

Both answer a weak ETag built from the market's registry version (and the query), so a poll with a
matching `If-None-Match` is a 304 that reads nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Literal, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clash.http.bodies import json_response, query_int, query_str
from clash.http.errors import ApiError
from clash.market import FILTER_CATEGORIES, MarketModule

LIST_PARAMS = frozenset({"category", "kind", "q", "trending", "cursor", "limit"})
KINDS = ("perp", "spot")
MAX_LIMIT = 500


def _market(request: Request) -> MarketModule:
    return request.app.state.runtime.module(MarketModule)


def refuse_unknown(request: Request, allowed: Collection[str]) -> None:
    """Unknown query parameters are refused, not ignored (422 `invalid_query`)."""
    unknown = sorted({k for k in request.query_params if k not in allowed})
    if unknown:
        names = ", ".join(repr(k[:40]) for k in unknown[:5])
        known = ", ".join(sorted(allowed)) or "none"
        raise ApiError(422, "invalid_query", f"unknown query parameter {names}; known: {known}")


def _etag(request: Request, what: str) -> str:
    query = hashlib.blake2s(request.url.query.encode(), digest_size=6).hexdigest()
    return f'W/"{what}-{_market(request).registry_version()}-{query}"'


def _not_modified(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    tags = {t.strip() for t in header.split(",")}
    return "*" in tags or etag in tags or etag.removeprefix("W/") in tags


def _one_of(request: Request, name: str, values: tuple[str, ...]) -> str | None:
    raw = query_str(request, name)
    if raw is not None and raw not in values:
        shown = ", ".join(values)
        raise ApiError(422, "invalid_query", f"{name} must be one of {shown}, got {raw[:60]!r}")
    return raw


async def list_assets(request: Request) -> Response:
    refuse_unknown(request, LIST_PARAMS)
    category = _one_of(request, "category", FILTER_CATEGORIES)
    kind = _one_of(request, "kind", KINDS)
    trending = _one_of(request, "trending", ("true", "false"))
    prefix = query_str(request, "q", max_length=60)
    cursor = query_str(request, "cursor", max_length=100)
    limit = query_int(request, "limit", 100, lo=1, hi=MAX_LIMIT)
    etag = _etag(request, "assets")
    if _not_modified(request, etag):
        return Response(status_code=304, headers={"ETag": etag})
    body = await _market(request).list_assets(
        category=category,
        kind=cast(Literal["perp", "spot"] | None, kind),
        prefix=prefix,
        trending=None if trending is None else trending == "true",
        cursor=cursor,
        limit=limit,
    )
    return json_response(body, headers={"ETag": etag})


async def categories(request: Request) -> Response:
    refuse_unknown(request, ())
    etag = _etag(request, "asset-categories")
    if _not_modified(request, etag):
        return Response(status_code=304, headers={"ETag": etag})
    return json_response(await _market(request).category_tree(), headers={"ETag": etag})


routes = [
    Route("/api/v1/assets", list_assets, methods=["GET"]),
    Route("/api/v1/assets/categories", categories, methods=["GET"]),
]
