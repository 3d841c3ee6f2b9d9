"""Trading routes: the pipeline preview (compiled read plans and the context packet), the Latest
Data drawer of one connected asset, and the owner's trading control: a clone's prop accounts
(opening sandbox ones) and the Trading Clone Block (trading on/off and the model strength per
account). Handlers decode, call the trading module and encode.

Preview and Latest Data read the draft by default (owner only); `version=N` or `version=latest`
reads a published version instead (its owner's, or anyone's when the strategy is public). The
account and trading routes are the owner's only: another user gets 403 `not_owner`.
Money renders as decimal strings of USD, fractions as decimal strings, times as `*_ms`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clash.clones import ModelStrength
from clash.http.auth import require_user
from clash.http.bodies import decode_body, json_response, query_int, query_str
from clash.http.errors import ApiError
from clash.prop import AccountSnapshot, format_usd
from clash.trading import TradingModule, VersionRef

ACCOUNTS_DEFAULT, ACCOUNTS_MAX = 50, 100


class CloneAccount(msgspec.Struct, frozen=True, kw_only=True):
    """One prop account of a clone, as the account list shows it."""

    account_id: str
    """Prop account ids are opaque strings (`pa_...`)."""
    clone_id: int
    kind: str
    """`sandbox` (opened here), `audition`, `race`, `backtest` (opened by their modules)."""
    status: str
    """`active`, `paused`, `halted`, `killed`, or `finalized`."""
    universe: list[str]
    equity_usd: str
    balance_usd: str
    return_: str = msgspec.field(name="return")
    """(equity - deposits) / deposits, a decimal fraction."""
    drawdown_usd: str
    """Below the peak equity now."""
    max_drawdown: str
    """The largest peak-to-trough drop seen, a fraction of the peak."""
    created_at_ms: int
    at_ms: int

    @classmethod
    def of(cls, s: AccountSnapshot) -> CloneAccount:
        return cls(
            account_id=s.account_id,
            clone_id=s.clone_id,
            kind=s.kind,
            status="finalized" if s.finalized_at_ms is not None else s.status,
            universe=s.universe,
            equity_usd=format_usd(s.equity_micro),
            balance_usd=format_usd(s.balance_micro),
            return_=_fraction(s.return_ppm),
            drawdown_usd=format_usd(s.drawdown_micro),
            max_drawdown=_fraction(s.max_drawdown_ppm),
            created_at_ms=s.created_at_ms,
            at_ms=s.at_ms,
        )


class AccountPage(msgspec.Struct, frozen=True):
    items: list[CloneAccount]
    next_cursor: str | None
    """Pass as `cursor` for the next page; null on the last."""


class TradingControl(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    account_id: Annotated[str, Meta(min_length=1, max_length=100)]
    enabled: bool
    model_strength: ModelStrength | None = None
    """Omitted: keep the account's (the published version's until one is chosen)."""


def _fraction(ppm: int) -> str:
    return format(Decimal(ppm).scaleb(-6), "f")


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


async def open_account(request: Request) -> Response:
    user = await require_user(request)
    snapshot = await _trading(request).open_sandbox_account(user, request.path_params["clone_id"])
    return json_response(CloneAccount.of(snapshot), status=201)


async def list_accounts(request: Request) -> Response:
    user = await require_user(request)
    limit = query_int(request, "limit", ACCOUNTS_DEFAULT, lo=1, hi=ACCOUNTS_MAX)
    items, cursor = await _trading(request).clone_accounts(
        user, request.path_params["clone_id"], after=query_str(request, "cursor"), limit=limit
    )
    return json_response(AccountPage([CloneAccount.of(s) for s in items], cursor))


async def get_trading(request: Request) -> Response:
    user = await require_user(request)
    return json_response(
        await _trading(request).trading_block(user, request.path_params["clone_id"])
    )


async def put_trading(request: Request) -> Response:
    user = await require_user(request)
    body = await decode_body(request, TradingControl)
    block = await _trading(request).set_trading(
        user,
        request.path_params["clone_id"],
        body.account_id,
        enabled=body.enabled,
        model_strength=body.model_strength,
    )
    return json_response(block)


_C = "/api/v1/clones/{clone_id:id}"

routes = [
    Route(f"{_C}/pipeline/preview", preview, methods=["GET"]),
    Route(f"{_C}/pipeline/latest-data", latest_data, methods=["GET"]),
    Route(f"{_C}/accounts", open_account, methods=["POST"]),
    Route(f"{_C}/accounts", list_accounts, methods=["GET"]),
    Route(f"{_C}/trading", get_trading, methods=["GET"]),
    Route(f"{_C}/trading", put_trading, methods=["PUT"]),
]
