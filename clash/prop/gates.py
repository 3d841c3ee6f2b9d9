"""Safety gates: the engine's checks between a proposed action and a paper fill.

The gates are sovereign: nothing in an action can widen them. :func:`plan_order` either rejects an
action with a reason code or turns it into the one market order the book will fill; hold is always
accepted and plans nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

import msgspec

from clash.prop.fills import AssetSpec, OrderSide, Side, closing_side, opening_side
from clash.prop.money import bps, exact, from_micro, round_size, usd, wide

if TYPE_CHECKING:
    from clash.prop.book import AccountBook

ActionKind = Literal["open_long", "open_short", "close", "reduce", "hold"]
RejectionCode = Literal[
    "asset_not_in_universe",
    "asset_disabled",
    "malformed_action",
    "low_confidence",
    "below_min_notional",
    "leverage_above_cap",
    "asset_exposure_cap",
    "gross_exposure_cap",
    "insufficient_margin",
    "account_halted",
    "account_paused",
    "account_liquidated",
    "no_position",
    "no_price",
]


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """An account's risk configuration. Exposure caps are notional as a multiple of equity."""

    starting_equity_micro: int = usd(10_000)
    slippage_bps: Decimal = Decimal(5)
    taker_fee_bps: Decimal = Decimal("4.5")
    min_notional_micro: int = usd(10)
    max_leverage: int = 10
    max_asset_exposure: Decimal = Decimal(3)
    max_gross_exposure: Decimal = Decimal(5)
    min_confidence: Decimal = Decimal(0)
    daily_loss_halt: Decimal = Decimal("0.05")
    max_drawdown_halt: Decimal = Decimal("0.20")


DEFAULT_LIMITS = Limits()


class Action(msgspec.Struct, frozen=True, kw_only=True):
    """A decision for one asset.

    Sizing takes exactly one of ``size_usd`` (notional, micro-USD) or ``size_fraction``. For an
    open, the fraction is of equity and gives the notional (leverage only sets the margin); for a
    reduce, it is the fraction of the position to close. ``close`` and ``hold`` take no size.
    """

    action_id: str
    kind: ActionKind
    symbol: str
    size_usd: int | None = None
    size_fraction: Decimal | None = None
    leverage: int = 1
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    confidence: Decimal = Decimal(1)
    reason: str = ""


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    code: RejectionCode
    message: str


class Order(msgspec.Struct, frozen=True, kw_only=True):
    """The market order an accepted action becomes."""

    action_id: str
    symbol: str
    side: OrderSide
    size: Decimal
    ref_px: Decimal
    leverage: int | None = None
    """Set when the order opens or adds exposure."""
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None


def check_action(
    action: Action,
    book: AccountBook,
    asset: AssetSpec | None,
    marks: Mapping[str, Decimal],
    limits: Limits,
) -> Rejection | None:
    """Why ``action`` may not run now, or None when it may."""
    planned = plan_order(action, book, asset, marks, limits)
    return planned if isinstance(planned, Rejection) else None


def plan_order(
    action: Action,
    book: AccountBook,
    asset: AssetSpec | None,
    marks: Mapping[str, Decimal],
    limits: Limits,
) -> Order | Rejection | None:
    """The order for ``action``, a rejection, or None for a hold.

    ``asset`` is the account-universe spec for ``action.symbol`` (None when outside it); ``marks``
    are the latest execution prices. Confidence and caps only gate new exposure: a close or a
    reduce is never refused for them.
    """
    if action.kind == "hold":
        return None
    if rejection := _status(book):
        return rejection
    if message := _malformed(action):
        return _reject("malformed_action", message)
    if asset is None or asset.symbol != action.symbol:
        return _reject(
            "asset_not_in_universe", f"{action.symbol} is not in this account's universe"
        )
    if not asset.enabled:
        return _reject("asset_disabled", f"{action.symbol} is disabled")
    ref_px = marks.get(action.symbol)
    if ref_px is None or ref_px <= 0:
        return _reject("no_price", f"no execution price for {action.symbol}")
    if action.kind in ("close", "reduce"):
        return _plan_exit(action, book, asset, ref_px, limits)
    return _plan_entry(action, book, asset, marks, ref_px, limits)


def _status(book: AccountBook) -> Rejection | None:
    match book.status:
        case "liquidated":
            return _reject("account_liquidated", "the account was liquidated")
        case "halted":
            return _reject("account_halted", f"the account is halted ({book.halt_reason})")
        case "paused":
            return _reject("account_paused", "the account is paused")
    return None


def _malformed(action: Action) -> str | None:
    if not action.symbol:
        return "symbol is empty"
    if not Decimal(0) <= action.confidence <= Decimal(1):
        return "confidence must be within [0, 1]"
    if action.kind == "close":
        return None
    if (action.size_usd is None) == (action.size_fraction is None):
        return "give exactly one of size_usd and size_fraction"
    if action.size_usd is not None and action.size_usd <= 0:
        return "size_usd must be positive"
    if action.size_fraction is not None:
        if not action.size_fraction.is_finite() or action.size_fraction <= 0:
            return "size_fraction must be positive"
        if action.kind == "reduce" and action.size_fraction > 1:
            return "a reduce fraction must be at most 1"
    if action.kind == "reduce":
        return None
    if action.leverage < 1:
        return "leverage must be at least 1"
    for name in ("stop_loss", "take_profit"):
        px = getattr(action, name)
        if px is not None and (not px.is_finite() or px <= 0):
            return f"{name} must be a positive price"
    return None


def _plan_exit(
    action: Action, book: AccountBook, asset: AssetSpec, ref_px: Decimal, limits: Limits
) -> Order | Rejection:
    position = book.positions.get(action.symbol)
    if position is None:
        return _reject("no_position", f"no open {action.symbol} position to {action.kind}")
    size = position.size
    if action.kind == "reduce":
        with wide():
            if action.size_fraction is not None:
                wanted = position.size * action.size_fraction
            else:
                wanted = from_micro(action.size_usd or 0) / ref_px
        size = min(position.size, round_size(wanted, asset.sz_decimals))
        if size < position.size and not _meets_min_notional(size, ref_px, limits):
            return _reject("below_min_notional", _min_notional_message(size, ref_px, limits))
    return Order(
        action_id=action.action_id,
        symbol=action.symbol,
        side=closing_side(position.side),
        size=size,
        ref_px=ref_px,
    )


def _plan_entry(
    action: Action,
    book: AccountBook,
    asset: AssetSpec,
    marks: Mapping[str, Decimal],
    ref_px: Decimal,
    limits: Limits,
) -> Order | Rejection:
    side: Side = "long" if action.kind == "open_long" else "short"
    if message := _bad_triggers(side, action, ref_px):
        return _reject("malformed_action", message)
    if action.confidence < limits.min_confidence:
        return _reject(
            "low_confidence", f"confidence {action.confidence} is below {limits.min_confidence}"
        )
    leverage_cap = min(asset.max_leverage, limits.max_leverage)
    if action.leverage > leverage_cap:
        return _reject(
            "leverage_above_cap", f"leverage {action.leverage}x is above {leverage_cap}x"
        )

    equity = from_micro(book.equity_micro(marks))
    with wide():
        if action.size_usd is not None:
            target = from_micro(action.size_usd)
        else:
            target = equity * (action.size_fraction or 0)
        size = round_size(target / ref_px, asset.sz_decimals)
    if not _meets_min_notional(size, ref_px, limits):
        return _reject("below_min_notional", _min_notional_message(size, ref_px, limits))

    current = book.positions.get(action.symbol)
    held = current.size if current is not None else Decimal(0)
    adding = current is not None and current.side == side
    post_size = size + held if adding else size
    order_size = size if adding else size + held  # a flip also closes what is held
    with exact():
        asset_notional = post_size * ref_px
        other_notional = sum(
            (
                p.size * marks.get(s, p.mark_px)
                for s, p in book.positions.items()
                if s != action.symbol
            ),
            Decimal(0),
        )
        other_margin = from_micro(
            sum(p.margin_micro for s, p in book.positions.items() if s != action.symbol)
        )
        fee = order_size * ref_px * bps(limits.taker_fee_bps)
    if asset_notional > limits.max_asset_exposure * equity:
        return _reject(
            "asset_exposure_cap",
            f"{action.symbol} notional {asset_notional:.2f} USD would exceed "
            f"{limits.max_asset_exposure}x equity",
        )
    if other_notional + asset_notional > limits.max_gross_exposure * equity:
        return _reject(
            "gross_exposure_cap",
            f"gross notional {other_notional + asset_notional:.2f} USD would exceed "
            f"{limits.max_gross_exposure}x equity",
        )
    with wide():
        required = other_margin + asset_notional / action.leverage + fee
    if required > equity:
        return _reject(
            "insufficient_margin", f"needs {required:.2f} USD of margin, equity is {equity:.2f} USD"
        )
    return Order(
        action_id=action.action_id,
        symbol=action.symbol,
        side=opening_side(side),
        size=order_size,
        ref_px=ref_px,
        leverage=action.leverage,
        stop_loss=action.stop_loss,
        take_profit=action.take_profit,
    )


def _bad_triggers(side: Side, action: Action, ref_px: Decimal) -> str | None:
    sign = 1 if side == "long" else -1
    if action.stop_loss is not None and sign * (action.stop_loss - ref_px) >= 0:
        return f"a {side} stop_loss must be on the losing side of {ref_px}"
    if action.take_profit is not None and sign * (action.take_profit - ref_px) <= 0:
        return f"a {side} take_profit must be on the winning side of {ref_px}"
    return None


def _meets_min_notional(size: Decimal, ref_px: Decimal, limits: Limits) -> bool:
    with exact():
        return size > 0 and size * ref_px >= from_micro(limits.min_notional_micro)


def _min_notional_message(size: Decimal, ref_px: Decimal, limits: Limits) -> str:
    with exact():
        notional = size * ref_px
    minimum = from_micro(limits.min_notional_micro)
    return f"order notional {notional:.2f} USD is below {minimum:.2f} USD"


def _reject(code: RejectionCode, message: str) -> Rejection:
    return Rejection(code=code, message=message)
