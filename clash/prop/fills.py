"""Paper fills and position arithmetic: pure functions over exact decimals and micro-USD.

Conventions: a position's ``size`` is always positive and its ``side`` carries the direction;
every cash amount is a signed micro-USD credit to the account (negative = the account pays),
rounded by :func:`clash.prop.money.to_micro` (toward negative infinity).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Literal

import msgspec

from clash.prop.money import bps, exact, plain, round_price, round_size, to_micro, wide

if TYPE_CHECKING:
    from clash.prop.book import AccountBook

Side = Literal["long", "short"]
OrderSide = Literal["buy", "sell"]
LedgerKind = Literal["deposit", "fee", "realized_pnl", "funding", "backstop_liquidation"]
LiquidationKind = Literal["liquidation", "backstop_liquidation"]
FillCause = Literal[
    "action",
    "stop_loss",
    "take_profit",
    "liquidation",
    "backstop_liquidation",
    "daily_loss",
    "max_drawdown",
    "admin",
    "kill",
]
PositionEvent = Literal["open", "add", "reduce", "close", "flip"]
Trigger = Literal["stop_loss", "take_profit"]

ENTRY_PX_DIGITS = 18
"""Significant digits kept for a size-weighted average entry price (the one inexact step)."""


class AssetSpec(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    sz_decimals: int
    max_leverage: int
    is_spot: bool = False
    enabled: bool = True


class Position(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    side: Side
    size: Decimal
    entry_px: Decimal
    leverage: int
    margin_micro: int
    """Initial margin at the chosen leverage: entry notional / leverage, rounded up."""
    mark_px: Decimal
    """Last price the position was marked at; equity falls back to it when a mark is missing."""
    opened_at_ms: int
    updated_at_ms: int
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None


class Fill(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    side: OrderSide
    size: Decimal
    px: Decimal
    """Executed price: the reference moved against the trader by the slippage, tick-rounded."""
    ref_px: Decimal
    notional_micro: int
    """``size * px`` rounded half-even; informational, no cash moves on it."""
    fee_micro: int
    at_ms: int
    cause: FillCause = "action"
    action_id: str | None = None


class CashEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One signed change of an account's cash; it becomes one `prop_ledger` row."""

    kind: LedgerKind
    amount_micro: int
    """Signed credit to the account's balance."""
    at_ms: int
    symbol: str | None = None
    ref: str | None = None
    """What caused the row: an action id, or a fill cause such as ``"stop_loss"``."""


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    """What one fill did to one position."""

    position: Position | None
    event: PositionEvent
    ledger: list[CashEntry]
    realized_micro: int = 0


def direction(side: Side) -> int:
    return 1 if side == "long" else -1


def closing_side(side: Side) -> OrderSide:
    return "sell" if side == "long" else "buy"


def opening_side(side: Side) -> OrderSide:
    return "buy" if side == "long" else "sell"


def fill_market_order(
    asset: AssetSpec,
    side: OrderSide,
    size: Decimal,
    ref_px: Decimal,
    at_ms: int,
    *,
    slippage_bps: Decimal,
    fee_bps: Decimal,
    cause: FillCause = "action",
    action_id: str | None = None,
) -> Fill:
    """Fill a market order against ``ref_px`` (the latest execution price).

    The price moves against the trader by ``slippage_bps`` and the tick rounding also goes against
    the trader (up for a buy, down for a sell). The size is truncated to ``szDecimals``.
    """
    rounded_size = round_size(size, asset.sz_decimals)
    if rounded_size <= 0:
        raise ValueError(f"order size {size} rounds to zero for {asset.symbol}")
    sign = 1 if side == "buy" else -1
    with exact():
        raw_px = ref_px * (1 + sign * bps(slippage_bps))
    px = round_price(
        raw_px, asset.sz_decimals, asset.is_spot, ROUND_CEILING if side == "buy" else ROUND_FLOOR
    )
    return _fill(asset.symbol, side, rounded_size, px, ref_px, at_ms, fee_bps, cause, action_id)


def fill_at_price(
    symbol: str,
    side: OrderSide,
    size: Decimal,
    px: Decimal,
    at_ms: int,
    *,
    cause: FillCause,
) -> Fill:
    """A fill at exactly ``px`` with no slippage or fee (a backstop liquidation takes the
    positions over at the mark)."""
    return _fill(symbol, side, size, px, px, at_ms, Decimal(0), cause, None)


def _fill(
    symbol: str,
    side: OrderSide,
    size: Decimal,
    px: Decimal,
    ref_px: Decimal,
    at_ms: int,
    fee_bps: Decimal,
    cause: FillCause,
    action_id: str | None,
) -> Fill:
    with exact():
        notional = size * px
        fee = notional * bps(fee_bps)
    return Fill(
        symbol=symbol,
        side=side,
        size=size,
        px=px,
        ref_px=ref_px,
        notional_micro=to_micro(notional, ROUND_HALF_EVEN),
        fee_micro=-to_micro(-fee),
        at_ms=at_ms,
        cause=cause,
        action_id=action_id,
    )


def apply_fill(
    position: Position | None,
    fill: Fill,
    *,
    leverage: int | None = None,
    stop_loss: Decimal | None = None,
    take_profit: Decimal | None = None,
) -> Transition:
    """Apply a fill to a position: open, add, reduce, close or flip (close then open).

    ``leverage`` is required whenever the fill opens or adds exposure; on an add it becomes the
    position's leverage. Stops given here replace the position's; on an add, absent ones are kept.
    Ledger rows: the fee (when non-zero) and, whenever exposure is closed, the realised PnL.
    """
    ref = fill.action_id or fill.cause
    ledger: list[CashEntry] = []
    if fill.fee_micro:
        ledger.append(
            CashEntry(
                kind="fee",
                amount_micro=-fill.fee_micro,
                at_ms=fill.at_ms,
                symbol=fill.symbol,
                ref=ref,
            )
        )
    fill_side: Side = "long" if fill.side == "buy" else "short"

    if position is None:
        opened = _open(fill, fill_side, fill.size, leverage, stop_loss, take_profit)
        return Transition(position=opened, event="open", ledger=ledger)

    if position.side == fill_side:
        return Transition(
            position=_add(position, fill, leverage, stop_loss, take_profit),
            event="add",
            ledger=ledger,
        )

    closed_size = min(fill.size, position.size)
    realized = realized_pnl_micro(position, closed_size, fill.px)
    ledger.append(
        CashEntry(
            kind="realized_pnl",
            amount_micro=realized,
            at_ms=fill.at_ms,
            symbol=fill.symbol,
            ref=ref,
        )
    )
    remaining = position.size - closed_size
    if fill.size < position.size:
        reduced = msgspec.structs.replace(
            position,
            size=remaining,
            margin_micro=margin_micro(remaining, position.entry_px, position.leverage),
            mark_px=fill.ref_px,
            updated_at_ms=fill.at_ms,
        )
        return Transition(position=reduced, event="reduce", ledger=ledger, realized_micro=realized)
    if fill.size == position.size:
        return Transition(position=None, event="close", ledger=ledger, realized_micro=realized)
    flipped = _open(fill, fill_side, fill.size - position.size, leverage, stop_loss, take_profit)
    return Transition(position=flipped, event="flip", ledger=ledger, realized_micro=realized)


def _open(
    fill: Fill,
    side: Side,
    size: Decimal,
    leverage: int | None,
    stop_loss: Decimal | None,
    take_profit: Decimal | None,
) -> Position:
    if leverage is None or leverage < 1:
        raise ValueError("opening a position needs a leverage >= 1")
    return Position(
        symbol=fill.symbol,
        side=side,
        size=size,
        entry_px=fill.px,
        leverage=leverage,
        margin_micro=margin_micro(size, fill.px, leverage),
        mark_px=fill.ref_px,
        opened_at_ms=fill.at_ms,
        updated_at_ms=fill.at_ms,
        stop_loss=stop_loss,
        take_profit=take_profit,
    )


def _add(
    position: Position,
    fill: Fill,
    leverage: int | None,
    stop_loss: Decimal | None,
    take_profit: Decimal | None,
) -> Position:
    if leverage is None or leverage < 1:
        raise ValueError("adding to a position needs a leverage >= 1")
    size = position.size + fill.size
    entry_px = average_entry_px(position.size, position.entry_px, fill.size, fill.px)
    return msgspec.structs.replace(
        position,
        size=size,
        entry_px=entry_px,
        leverage=leverage,
        margin_micro=margin_micro(size, entry_px, leverage),
        mark_px=fill.ref_px,
        updated_at_ms=fill.at_ms,
        stop_loss=stop_loss if stop_loss is not None else position.stop_loss,
        take_profit=take_profit if take_profit is not None else position.take_profit,
    )


def average_entry_px(size_a: Decimal, px_a: Decimal, size_b: Decimal, px_b: Decimal) -> Decimal:
    """Size-weighted average price, to :data:`ENTRY_PX_DIGITS` significant digits."""
    with wide() as ctx:
        total = size_a * px_a + size_b * px_b
        ctx.prec = ENTRY_PX_DIGITS
        return plain(total / (size_a + size_b))


def margin_micro(size: Decimal, px: Decimal, leverage: int) -> int:
    with wide():
        return -to_micro(-(size * px) / leverage)


def realized_pnl_micro(position: Position, size: Decimal, exit_px: Decimal) -> int:
    with exact():
        pnl = direction(position.side) * size * (exit_px - position.entry_px)
    return to_micro(pnl)


def unrealized_pnl_micro(position: Position, mark: Decimal) -> int:
    return realized_pnl_micro(position, position.size, mark)


def notional_micro(position: Position, mark: Decimal) -> int:
    """Absolute notional at ``mark``, rounded up (used for caps and maintenance margin)."""
    with exact():
        notional = position.size * mark
    return -to_micro(-notional)


def funding_payment(position: Position, rate: Decimal, oracle_px: Decimal, at_ms: int) -> CashEntry:
    """One hour of funding on the position's notional at the oracle price.

    A positive rate means longs pay shorts.
    """
    with exact():
        credit = -direction(position.side) * position.size * oracle_px * rate
    return CashEntry(
        kind="funding",
        amount_micro=to_micro(credit),
        at_ms=at_ms,
        symbol=position.symbol,
        ref="funding",
    )


def maintenance_margin_micro(position: Position, mark: Decimal, asset: AssetSpec) -> int:
    """Half the initial margin at the asset's max leverage: notional / (2 * maxLeverage), up."""
    with wide():
        return -to_micro(-(position.size * mark) / (2 * asset.max_leverage))


def liquidation_due(
    book: AccountBook, assets: Mapping[str, AssetSpec], marks: Mapping[str, Decimal]
) -> LiquidationKind | None:
    """Hyperliquid's rule: equity below the total maintenance margin of the open positions is a
    liquidation (closed at market, the account keeps what remains); below 2/3 of it, a backstop
    liquidation (the positions and all remaining collateral go to the liquidator)."""
    if not book.positions:
        return None
    required = sum(
        maintenance_margin_micro(p, marks.get(s, p.mark_px), assets[s])
        for s, p in book.positions.items()
    )
    equity = book.equity_micro(marks)
    if 3 * equity < 2 * required:
        return "backstop_liquidation"
    if equity < required:
        return "liquidation"
    return None


def stop_or_take_profit_hit(position: Position, mark: Decimal) -> Trigger | None:
    """Which attached trigger ``mark`` has crossed (touching counts), the stop winning a tie."""
    d = direction(position.side)
    if position.stop_loss is not None and d * (mark - position.stop_loss) <= 0:
        return "stop_loss"
    if position.take_profit is not None and d * (mark - position.take_profit) >= 0:
        return "take_profit"
    return None
