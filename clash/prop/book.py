"""The prop account as a value: state plus pure transitions that return an :class:`Outcome`.

Nothing here reads a clock or does I/O. Each transition returns the next book (its positions
included) together with every row its persistence needs (fills, ledger entries, status changes, a
rejection), so the actor that owns an account only has to write one Outcome in one transaction.

Invariant kept by every transition: ``balance_micro == sum of all ledger rows`` (the opening
deposit is a row), and ``equity = balance + unrealised PnL``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

import msgspec

from clash.prop.fills import (
    AssetSpec,
    CashEntry,
    Fill,
    FillCause,
    LiquidationKind,
    Position,
    apply_fill,
    closing_side,
    fill_at_price,
    fill_market_order,
    funding_payment,
    liquidation_due,
    notional_micro,
    stop_or_take_profit_hit,
    unrealized_pnl_micro,
)
from clash.prop.gates import DEFAULT_LIMITS, Action, Limits, Order, Rejection, plan_order

__all__ = [
    "AccountBook",
    "Action",
    "BookState",
    "Outcome",
    "StatusChange",
    "open_account",
]

Status = Literal["active", "paused", "halted", "liquidated"]
HaltReason = Literal["daily_loss", "max_drawdown", "killed"]
FlattenReason = Literal["daily_loss", "max_drawdown", "admin", "kill"]
StatusReason = Literal[
    "daily_loss",
    "max_drawdown",
    "killed",
    "liquidation",
    "backstop_liquidation",
    "paused",
    "resumed",
    "new_day",
]

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_NO_MARKS: Mapping[str, Decimal] = MappingProxyType({})


class StatusChange(msgspec.Struct, frozen=True, kw_only=True):
    before: Status
    after: Status
    reason: StatusReason
    at_ms: int


class BookState(msgspec.Struct, frozen=True, kw_only=True):
    """An account's state apart from its positions, declared once: the book, the stored account
    row (`AccountRow`) and the account snapshot (`AccountSnapshot`) all extend it."""

    status: Status = "active"
    halt_reason: HaltReason | None = None
    balance_micro: int
    peak_equity_micro: int
    day_start_equity_micro: int
    day: int
    """UTC day index (ms // 86_400_000) that ``day_start_equity_micro`` belongs to."""
    funding_hour: int
    """Last hour index (ms // 3_600_000) funding was applied for; funding is once per hour."""
    deposits_micro: int = 0
    realized_pnl_micro: int = 0
    fees_paid_micro: int = 0
    funding_paid_micro: int = 0
    liquidation_micro: int = 0
    """Sum of ``backstop_liquidation`` rows (the collateral forfeited, or a deficit written off)."""
    updated_at_ms: int

    def book_state(self) -> dict[str, Any]:
        """The `BookState` fields of this value, by name (to carry them into another)."""
        return {name: getattr(self, name) for name in BookState.__struct_fields__}

    def book(self, positions: Iterable[Position]) -> AccountBook:
        return AccountBook(**self.book_state(), positions={p.symbol: p for p in positions})


class AccountBook(BookState, frozen=True, kw_only=True):
    """One prop account. Treat as immutable: transitions return a new book."""

    positions: dict[str, Position] = {}

    def unrealized_pnl_micro(self, marks: Mapping[str, Decimal] = _NO_MARKS) -> int:
        return sum(
            unrealized_pnl_micro(p, marks.get(s, p.mark_px)) for s, p in self.positions.items()
        )

    def equity_micro(self, marks: Mapping[str, Decimal] = _NO_MARKS) -> int:
        """Balance plus unrealised PnL; a position without a mark uses its last ``mark_px``."""
        return self.balance_micro + self.unrealized_pnl_micro(marks)

    def gross_exposure_micro(self) -> int:
        """Sum of the positions' notionals at their last marks."""
        return sum(notional_micro(p, p.mark_px) for p in self.positions.values())

    def submit(
        self,
        action: Action,
        assets: Mapping[str, AssetSpec],
        marks: Mapping[str, Decimal],
        now_ms: int,
        limits: Limits,
    ) -> Outcome:
        """Gate ``action`` and, when accepted, paper-fill it at ``marks[action.symbol]``.

        ``assets`` is the account's universe. A rejected action returns this very book unchanged.
        """
        planned = plan_order(action, self, assets.get(action.symbol), marks, limits)
        if isinstance(planned, Rejection):
            return Outcome(book=self, rejection=planned)
        if planned is None:
            return Outcome(book=self)
        step = _Step(self, now_ms)
        fill = fill_market_order(
            assets[planned.symbol],
            planned.side,
            planned.size,
            planned.ref_px,
            now_ms,
            slippage_bps=limits.slippage_bps,
            fee_bps=limits.taker_fee_bps,
            action_id=planned.action_id,
        )
        step.fill(fill, planned)
        return step.outcome(order=planned)

    def mark(
        self,
        assets: Mapping[str, AssetSpec],
        marks: Mapping[str, Decimal],
        now_ms: int,
        limits: Limits,
    ) -> Outcome:
        """Mark to market, in order: UTC-day rollover, stops and take-profits, liquidation,
        max-drawdown halt, daily-loss halt, new peak.

        A new UTC day resets the day-start equity and lifts a daily-loss halt. Both halts flatten
        every position at market and stop new entries; a max-drawdown halt is permanent.
        """
        step = _Step(self, now_ms)
        step.remark(marks)
        day = now_ms // DAY_MS
        if day > step.book.day:
            step.new_day(day, marks)
        if step.book.status == "liquidated":
            return step.outcome()

        for symbol, position in sorted(step.book.positions.items()):
            if symbol in marks and (trigger := stop_or_take_profit_hit(position, marks[symbol])):
                step.close_at_market(position, assets[symbol], marks[symbol], limits, trigger)

        if kind := liquidation_due(step.book, assets, marks):
            step.liquidate(kind, assets, marks, limits)
            return step.outcome()

        if step.book.status in ("active", "paused"):
            equity = step.book.equity_micro(marks)
            peak = max(step.book.peak_equity_micro, equity)
            if _lost(peak, equity, limits.max_drawdown_halt):
                step.halt("max_drawdown", assets, marks, limits)
            elif _lost(step.book.day_start_equity_micro, equity, limits.daily_loss_halt):
                step.halt("daily_loss", assets, marks, limits)

        equity_now = step.book.equity_micro(marks)
        if equity_now > step.book.peak_equity_micro:
            step.book = msgspec.structs.replace(step.book, peak_equity_micro=equity_now)
        return step.outcome()

    def apply_funding(
        self, rates: Mapping[str, Decimal], oracle_pxs: Mapping[str, Decimal], now_ms: int
    ) -> Outcome:
        """Pay or receive one hour of funding on each open position that has a rate.

        Idempotent per UTC hour: a second call in the same hour changes nothing. Without an
        oracle price the position's last mark is used.
        """
        hour = now_ms // HOUR_MS
        if hour <= self.funding_hour:
            return Outcome(book=self)
        step = _Step(self, now_ms)
        for symbol, position in sorted(self.positions.items()):
            rate = rates.get(symbol)
            if rate is None:
                continue
            step.cash(
                [funding_payment(position, rate, oracle_pxs.get(symbol, position.mark_px), now_ms)]
            )
        step.book = msgspec.structs.replace(step.book, funding_hour=hour)
        return step.outcome()

    def flatten(
        self,
        assets: Mapping[str, AssetSpec],
        marks: Mapping[str, Decimal],
        now_ms: int,
        limits: Limits,
        reason: FlattenReason = "admin",
    ) -> Outcome:
        """Close every position at market (slippage and fee apply). The status is unchanged."""
        step = _Step(self, now_ms)
        step.remark(marks)
        step.flatten(assets, marks, limits, reason)
        return step.outcome()

    def pause(self, now_ms: int) -> Outcome:
        """Stop accepting actions; open positions stay and are still marked. Only from active."""
        if self.status != "active":
            return Outcome(book=self)
        step = _Step(self, now_ms)
        step.set_status("paused", "paused")
        return step.outcome()

    def resume(self, now_ms: int) -> Outcome:
        """Back to active from paused (a halt is not lifted by resume)."""
        if self.status != "paused":
            return Outcome(book=self)
        step = _Step(self, now_ms)
        step.set_status("active", "resumed")
        return step.outcome()

    def kill(
        self,
        assets: Mapping[str, AssetSpec],
        marks: Mapping[str, Decimal],
        now_ms: int,
        limits: Limits,
    ) -> Outcome:
        """Flatten and halt for good."""
        if self.status == "liquidated":
            return Outcome(book=self)
        step = _Step(self, now_ms)
        step.remark(marks)
        step.flatten(assets, marks, limits, "kill")
        step.set_status("halted", "killed", halt_reason="killed")
        return step.outcome()


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """A transition's result: the next book and every row to persist with it, in order."""

    book: AccountBook
    order: Order | None = None
    fills: list[Fill] = []
    ledger: list[CashEntry] = []
    status_changes: list[StatusChange] = []
    rejection: Rejection | None = None


def open_account(now_ms: int, limits: Limits = DEFAULT_LIMITS) -> Outcome:
    """A fresh active account funded by one deposit row of ``limits.starting_equity_micro``."""
    deposit = limits.starting_equity_micro
    book = AccountBook(
        balance_micro=0,
        peak_equity_micro=deposit,
        day_start_equity_micro=deposit,
        day=now_ms // DAY_MS,
        funding_hour=now_ms // HOUR_MS,
        updated_at_ms=now_ms,
    )
    step = _Step(book, now_ms)
    step.cash([CashEntry(kind="deposit", amount_micro=deposit, at_ms=now_ms, ref="opening")])
    return step.outcome()


def _lost(reference_micro: int, equity_micro: int, fraction: Decimal) -> bool:
    """Equity is down at least ``fraction`` of ``reference_micro``."""
    return reference_micro - equity_micro >= fraction * reference_micro


class _Step:
    """Accumulates one transition: every book change goes through here so rows are never missed."""

    def __init__(self, book: AccountBook, now_ms: int) -> None:
        self.book = msgspec.structs.replace(book, updated_at_ms=now_ms)
        self.now_ms = now_ms
        self.fills: list[Fill] = []
        self.ledger: list[CashEntry] = []
        self.status_changes: list[StatusChange] = []

    def outcome(self, order: Order | None = None) -> Outcome:
        return Outcome(
            book=self.book,
            order=order,
            fills=self.fills,
            ledger=self.ledger,
            status_changes=self.status_changes,
        )

    def cash(self, entries: Iterable[CashEntry]) -> None:
        b = self.book
        balance, deposits, realized = b.balance_micro, b.deposits_micro, b.realized_pnl_micro
        fees, funding, liquidation = b.fees_paid_micro, b.funding_paid_micro, b.liquidation_micro
        for entry in entries:
            self.ledger.append(entry)
            amount = entry.amount_micro
            balance += amount
            match entry.kind:
                case "deposit":
                    deposits += amount
                case "realized_pnl":
                    realized += amount
                case "fee":
                    fees -= amount
                case "funding":
                    funding -= amount
                case "backstop_liquidation":
                    liquidation += amount
        self.book = msgspec.structs.replace(
            b,
            balance_micro=balance,
            deposits_micro=deposits,
            realized_pnl_micro=realized,
            fees_paid_micro=fees,
            funding_paid_micro=funding,
            liquidation_micro=liquidation,
        )

    def fill(self, fill: Fill, order: Order | None = None) -> None:
        transition = apply_fill(
            self.book.positions.get(fill.symbol),
            fill,
            leverage=order.leverage if order else None,
            stop_loss=order.stop_loss if order else None,
            take_profit=order.take_profit if order else None,
        )
        self.fills.append(fill)
        self.cash(transition.ledger)
        positions = dict(self.book.positions)
        if transition.position is None:
            positions.pop(fill.symbol, None)
        else:
            positions[fill.symbol] = transition.position
        self.book = msgspec.structs.replace(self.book, positions=positions)

    def remark(self, marks: Mapping[str, Decimal]) -> None:
        """Record the latest marks on the positions they price."""
        if not any(s in marks for s in self.book.positions):
            return
        positions = {
            s: msgspec.structs.replace(p, mark_px=marks[s]) if s in marks else p
            for s, p in self.book.positions.items()
        }
        self.book = msgspec.structs.replace(self.book, positions=positions)

    def new_day(self, day: int, marks: Mapping[str, Decimal]) -> None:
        self.book = msgspec.structs.replace(
            self.book, day=day, day_start_equity_micro=self.book.equity_micro(marks)
        )
        if self.book.status == "halted" and self.book.halt_reason == "daily_loss":
            self.set_status("active", "new_day", halt_reason=None)

    def set_status(
        self, status: Status, reason: StatusReason, halt_reason: HaltReason | None = None
    ) -> None:
        self.status_changes.append(
            StatusChange(before=self.book.status, after=status, reason=reason, at_ms=self.now_ms)
        )
        self.book = msgspec.structs.replace(self.book, status=status, halt_reason=halt_reason)

    def flatten(
        self,
        assets: Mapping[str, AssetSpec],
        marks: Mapping[str, Decimal],
        limits: Limits,
        reason: FlattenReason,
    ) -> None:
        for symbol, position in sorted(self.book.positions.items()):
            ref_px = marks.get(symbol, position.mark_px)
            self.close_at_market(position, assets[symbol], ref_px, limits, reason)

    def close_at_market(
        self,
        position: Position,
        asset: AssetSpec,
        ref_px: Decimal,
        limits: Limits,
        cause: FillCause,
    ) -> None:
        self.fill(
            fill_market_order(
                asset,
                closing_side(position.side),
                position.size,
                ref_px,
                self.now_ms,
                slippage_bps=limits.slippage_bps,
                fee_bps=limits.taker_fee_bps,
                cause=cause,
            )
        )

    def halt(
        self,
        reason: Literal["daily_loss", "max_drawdown"],
        assets: Mapping[str, AssetSpec],
        marks: Mapping[str, Decimal],
        limits: Limits,
    ) -> None:
        self.flatten(assets, marks, limits, reason)
        self.set_status("halted", reason, halt_reason=reason)

    def liquidate(
        self,
        kind: LiquidationKind,
        assets: Mapping[str, AssetSpec],
        marks: Mapping[str, Decimal],
        limits: Limits,
    ) -> None:
        """Close everything and end the account (status ``liquidated``), as Hyperliquid does.

        A ``liquidation`` closes each position with a market order at the mark: tick-rounded
        against the trader, taker fee, no slippage; the account keeps the remaining balance. A
        ``backstop_liquidation`` hands the positions over at the mark without fee and one
        ``backstop_liquidation`` row takes the collateral left (or writes a deficit off), so the
        account ends at zero.
        """
        for symbol, position in sorted(self.book.positions.items()):
            mark, side = marks.get(symbol, position.mark_px), closing_side(position.side)
            if kind == "liquidation":
                fill = fill_market_order(
                    assets[symbol],
                    side,
                    position.size,
                    mark,
                    self.now_ms,
                    slippage_bps=Decimal(0),
                    fee_bps=limits.taker_fee_bps,
                    cause=kind,
                )
            else:
                fill = fill_at_price(symbol, side, position.size, mark, self.now_ms, cause=kind)
            self.fill(fill)
        if kind == "backstop_liquidation":
            self.cash(
                [
                    CashEntry(
                        kind="backstop_liquidation",
                        amount_micro=-self.book.balance_micro,
                        at_ms=self.now_ms,
                        ref="backstop_liquidation",
                    )
                ]
            )
        self.set_status("liquidated", kind, halt_reason=None)
