"""Trading routes: the pipeline preview (compiled read plans and the context packet) and the
Latest Data drawer of one connected asset. Handlers decode, call the trading module and encode.

Both read the draft by default (owner only); `version=N` or `version=latest` reads a published
version instead (its owner's, or anyone's when the strategy is public).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clash.http.auth import require_user
from clash.http.bodies import json_response, query_int, query_str
from clash.http.errors import ApiError
from clash.trading import TradingModule, VersionRef


def _trading(request: Request) -> TradingModule:
    return request.app.state.runtime.module(TradingModule)


def _ref(request: Request) -> VersionRef:
    raw = request.query_params.get("version")
    if raw is None or raw == "draft":
        return "draft"
    if raw == "latest":
        return "latest"
    return query_int(request, "version", 0, lo=1, hi=2**31)


def _as_of(request: Request) -> int | None:
    if request.query_params.get("as_of_ms") is None:
        return None
    return query_int(request, "as_of_ms", 0, lo=0, hi=2**62)


async def preview(request: Request) -> Response:
    user = await require_user(request)
    account_id = query_str(request, "account_id")
    view = await _trading(request).preview(
        request.path_params["clone_id"], _as_of(request), account_id, ref=_ref(request), user=user
    )
    return json_response(view)


async def latest_data(request: Request) -> Response:
    user = await require_user(request)
    symbol = query_str(request, "symbol")
    if not symbol:
        raise ApiError(422, "invalid_query", "symbol is required (a connected asset, e.g. BTC)")
    view = await _trading(request).latest_data(
        request.path_params["clone_id"],
        symbol,
        ref=_ref(request),
        user=user,
        as_of_ms=_as_of(request),
    )
    return json_response(view)


_C = "/api/v1/clones/{clone_id:id}/pipeline"

routes = [
    Route(f"{_C}/preview", preview, methods=["GET"]),
    Route(f"{_C}/latest-data", latest_data, methods=["GET"]),
]
