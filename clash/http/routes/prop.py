"""Prop account routes: the reads the frontend polls (owner or admin) and the admin controls.

Money is rendered as decimal strings of USD (`"10000.000000"`), fractions as decimal strings
(`"0.052100"`), prices and sizes as exact decimal strings.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Generic, TypeVar, get_args

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clash.http.auth import require_admin, require_user
from clash.http.bodies import json_response, query_int
from clash.http.errors import ApiError
from clash.prop import (
    AccountRow,
    AccountSnapshot,
    AdminOp,
    EquityPoint,
    FillRow,
    LedgerRow,
    Limits,
    OrderRow,
    Position,
    PropModule,
    format_usd,
    unrealized_pnl_micro,
)
from clash.prop import notional_micro as position_notional_micro

T = TypeVar("T")

DAY_MS = 86_400_000
PAGE_DEFAULT, PAGE_MAX = 50, 500
SERIES_DEFAULT, SERIES_MAX = 2_000, 10_000


def _px(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _fraction(ppm: int) -> str:
    return format(Decimal(ppm).scaleb(-6), "f")


# -- bodies ----------------------------------------------------------------------------------------


class LimitsView(msgspec.Struct, frozen=True):
    starting_equity_usd: str
    slippage_bps: str
    taker_fee_bps: str
    min_notional_usd: str
    max_leverage: int
    max_asset_exposure: str
    max_gross_exposure: str
    min_confidence: str
    daily_loss_halt: str
    max_drawdown_halt: str

    @classmethod
    def of(cls, limits: Limits) -> LimitsView:
        return cls(
            starting_equity_usd=format_usd(limits.starting_equity_micro),
            slippage_bps=_px(limits.slippage_bps) or "0",
            taker_fee_bps=_px(limits.taker_fee_bps) or "0",
            min_notional_usd=format_usd(limits.min_notional_micro),
            max_leverage=limits.max_leverage,
            max_asset_exposure=_px(limits.max_asset_exposure) or "0",
            max_gross_exposure=_px(limits.max_gross_exposure) or "0",
            min_confidence=_px(limits.min_confidence) or "0",
            daily_loss_halt=_px(limits.daily_loss_halt) or "0",
            max_drawdown_halt=_px(limits.max_drawdown_halt) or "0",
        )


class PositionView(msgspec.Struct, frozen=True):
    symbol: str
    side: str
    size: str
    entry_px: str
    mark_px: str
    leverage: int
    margin_usd: str
    notional_usd: str
    unrealized_pnl_usd: str
    stop_loss: str | None
    take_profit: str | None
    opened_at_ms: int
    updated_at_ms: int

    @classmethod
    def of(cls, p: Position) -> PositionView:
        return cls(
            symbol=p.symbol,
            side=p.side,
            size=format(p.size, "f"),
            entry_px=format(p.entry_px, "f"),
            mark_px=format(p.mark_px, "f"),
            leverage=p.leverage,
            margin_usd=format_usd(p.margin_micro),
            notional_usd=format_usd(position_notional_micro(p, p.mark_px)),
            unrealized_pnl_usd=format_usd(unrealized_pnl_micro(p, p.mark_px)),
            stop_loss=_px(p.stop_loss),
            take_profit=_px(p.take_profit),
            opened_at_ms=p.opened_at_ms,
            updated_at_ms=p.updated_at_ms,
        )


class AccountView(msgspec.Struct, frozen=True):
    account_id: str
    clone_id: int
    kind: str
    status: str
    halt_reason: str | None
    universe: list[str]
    limits: LimitsView
    balance_usd: str
    equity_usd: str
    unrealized_pnl_usd: str
    peak_equity_usd: str
    drawdown_usd: str
    max_drawdown: str
    return_: str = msgspec.field(name="return")
    day_start_equity_usd: str
    deposits_usd: str
    realized_pnl_usd: str
    fees_paid_usd: str
    funding_paid_usd: str
    liquidation_usd: str
    gross_exposure_usd: str
    positions: list[PositionView]
    actions_filled: int
    actions_rejected: int
    actions_held: int
    created_at_ms: int
    updated_at_ms: int
    at_ms: int
    finalized_at_ms: int | None

    @classmethod
    def of(cls, s: AccountSnapshot) -> AccountView:
        return cls(
            account_id=s.account_id,
            clone_id=s.clone_id,
            kind=s.kind,
            status=s.status,
            halt_reason=s.halt_reason,
            universe=s.universe,
            limits=LimitsView.of(s.limits),
            balance_usd=format_usd(s.balance_micro),
            equity_usd=format_usd(s.equity_micro),
            unrealized_pnl_usd=format_usd(s.unrealized_micro),
            peak_equity_usd=format_usd(s.peak_equity_micro),
            drawdown_usd=format_usd(s.drawdown_micro),
            max_drawdown=_fraction(s.max_drawdown_ppm),
            return_=_fraction(s.return_ppm),
            day_start_equity_usd=format_usd(s.day_start_equity_micro),
            deposits_usd=format_usd(s.deposits_micro),
            realized_pnl_usd=format_usd(s.realized_pnl_micro),
            fees_paid_usd=format_usd(s.fees_paid_micro),
            funding_paid_usd=format_usd(s.funding_paid_micro),
            liquidation_usd=format_usd(s.liquidation_micro),
            gross_exposure_usd=format_usd(s.gross_exposure_micro),
            positions=[PositionView.of(p) for p in s.positions],
            actions_filled=s.actions_filled,
            actions_rejected=s.actions_rejected,
            actions_held=s.actions_held,
            created_at_ms=s.created_at_ms,
            updated_at_ms=s.updated_at_ms,
            at_ms=s.at_ms,
            finalized_at_ms=s.finalized_at_ms,
        )


class OrderView(msgspec.Struct, frozen=True):
    order_no: int
    action_id: str | None
    cause: str
    symbol: str
    side: str
    size: str
    ref_px: str
    leverage: int | None
    stop_loss: str | None
    take_profit: str | None
    status: str
    at_ms: int

    @classmethod
    def of(cls, o: OrderRow) -> OrderView:
        return cls(
            o.order_no,
            o.action_id,
            o.cause,
            o.symbol,
            o.side,
            format(o.size, "f"),
            format(o.ref_px, "f"),
            o.leverage,
            _px(o.stop_loss),
            _px(o.take_profit),
            o.status,
            o.at_ms,
        )


class PropFillView(msgspec.Struct, frozen=True):
    order_no: int
    action_id: str | None
    cause: str
    symbol: str
    side: str
    size: str
    px: str
    ref_px: str
    notional_usd: str
    fee_usd: str
    at_ms: int

    @classmethod
    def of(cls, f: FillRow) -> PropFillView:
        return cls(
            f.order_no,
            f.action_id,
            f.cause,
            f.symbol,
            f.side,
            format(f.size, "f"),
            format(f.px, "f"),
            format(f.ref_px, "f"),
            format_usd(f.notional_micro),
            format_usd(f.fee_micro),
            f.at_ms,
        )


class LedgerView(msgspec.Struct, frozen=True):
    entry_id: int
    kind: str
    amount_usd: str
    symbol: str | None
    ref: str | None
    at_ms: int

    @classmethod
    def of(cls, e: LedgerRow) -> LedgerView:
        assert e.entry_id is not None
        return cls(e.entry_id, e.kind, format_usd(e.amount_micro), e.symbol, e.ref, e.at_ms)


class EquityPointView(msgspec.Struct, frozen=True):
    at_ms: int
    status: str
    equity_usd: str
    balance_usd: str
    unrealized_pnl_usd: str
    peak_equity_usd: str
    drawdown_usd: str
    day_start_equity_usd: str
    fees_paid_usd: str
    funding_paid_usd: str
    gross_exposure_usd: str

    @classmethod
    def of(cls, s: EquityPoint) -> EquityPointView:
        return cls(
            s.at_ms,
            s.status,
            format_usd(s.equity_micro),
            format_usd(s.balance_micro),
            format_usd(s.unrealized_micro),
            format_usd(s.peak_equity_micro),
            format_usd(s.drawdown_micro),
            format_usd(s.day_start_equity_micro),
            format_usd(s.fees_paid_micro),
            format_usd(s.funding_paid_micro),
            format_usd(s.gross_exposure_micro),
        )


class Page(msgspec.Struct, Generic[T], frozen=True):
    items: list[T]
    next_before_id: int | None
    """Pass as `before_id` for the next (older) page; null on the last page."""


class PositionsBody(msgspec.Struct, frozen=True):
    account_id: str
    positions: list[PositionView]


class EquityBody(msgspec.Struct, frozen=True):
    account_id: str
    since_ms: int
    points: list[EquityPointView]


# -- handlers --------------------------------------------------------------------------------------


def _module(request: Request) -> PropModule:
    return request.app.state.runtime.module(PropModule)


async def _readable(request: Request) -> tuple[PropModule, AccountRow]:
    """The account named in the path, if the caller owns it or is an admin."""
    module = _module(request)
    account_id = request.path_params["account_id"]
    if "authorization" in request.headers:
        require_admin(request)
        user = None
    else:
        user = await require_user(request)
    row = await module.account(account_id)
    if user is not None and row.owner_user_id != user:
        raise ApiError(403, "not_account_owner", "this prop account belongs to someone else")
    return module, row


def _paging(request: Request) -> tuple[int, int | None]:
    limit = query_int(request, "limit", PAGE_DEFAULT, lo=1, hi=PAGE_MAX)
    before = (
        query_int(request, "before_id", 0, lo=1) if "before_id" in request.query_params else None
    )
    return limit, before


def _page(items: list[Any], ids: list[int], limit: int) -> Page[Any]:
    return Page(items=items, next_before_id=ids[-1] if len(ids) == limit else None)


async def get_account(request: Request) -> Response:
    module, row = await _readable(request)
    return json_response(AccountView.of(await module.snapshot(row.account_id)))


async def get_positions(request: Request) -> Response:
    module, row = await _readable(request)
    positions = await module.positions(row.account_id)
    return json_response(PositionsBody(row.account_id, [PositionView.of(p) for p in positions]))


async def get_orders(request: Request) -> Response:
    module, row = await _readable(request)
    limit, before = _paging(request)
    orders = await module.orders(row.account_id, limit, before)
    return json_response(
        _page([OrderView.of(o) for o in orders], [o.order_no for o in orders], limit)
    )


async def get_fills(request: Request) -> Response:
    module, row = await _readable(request)
    limit, before = _paging(request)
    fills = await module.fills(row.account_id, limit, before)
    return json_response(
        _page([PropFillView.of(f) for f in fills], [f.order_no for f in fills], limit)
    )


async def get_ledger(request: Request) -> Response:
    module, row = await _readable(request)
    limit, before = _paging(request)
    entries = await module.ledger(row.account_id, limit, before)
    return json_response(
        _page([LedgerView.of(e) for e in entries], [e.entry_id or 0 for e in entries], limit)
    )


async def get_equity(request: Request) -> Response:
    module, row = await _readable(request)
    now_ms = request.app.state.runtime.clock.now_ms()
    since = query_int(request, "since_ms", max(now_ms - DAY_MS, 0))
    limit = query_int(request, "limit", SERIES_DEFAULT, lo=1, hi=SERIES_MAX)
    points = await module.equity(row.account_id, since, limit)
    return json_response(EquityBody(row.account_id, since, [EquityPointView.of(p) for p in points]))


async def post_admin_op(request: Request) -> Response:
    admin = require_admin(request)
    account_id, op = request.path_params["account_id"], request.path_params["op"]
    if op not in get_args(AdminOp):
        raise ApiError(404, "unknown_op", f"{op!r} is not one of {', '.join(get_args(AdminOp))}")
    control: Callable[[str, str], Awaitable[AccountSnapshot]] = getattr(_module(request), op)
    snapshot = await control(account_id, admin)
    return json_response(AccountView.of(snapshot))


routes = [
    Route("/api/v1/prop/accounts/{account_id}", get_account, methods=["GET"]),
    Route("/api/v1/prop/accounts/{account_id}/positions", get_positions, methods=["GET"]),
    Route("/api/v1/prop/accounts/{account_id}/orders", get_orders, methods=["GET"]),
    Route("/api/v1/prop/accounts/{account_id}/fills", get_fills, methods=["GET"]),
    Route("/api/v1/prop/accounts/{account_id}/ledger", get_ledger, methods=["GET"]),
    Route("/api/v1/prop/accounts/{account_id}/equity", get_equity, methods=["GET"]),
    Route("/api/v1/admin/prop/accounts/{account_id}/{op}", post_admin_op, methods=["POST"]),
]
