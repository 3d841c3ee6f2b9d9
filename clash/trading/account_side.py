"""The account a run trades: a live prop account, or a synthetic book for dry runs."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal, Protocol

import msgspec

from clash.market import DAY_MS, HOUR_MS
from clash.prop import AccountBook, AccountSnapshot, Action, AssetSpec, Fill, Limits, open_account


class Execution(msgspec.Struct, frozen=True, kw_only=True):
    outcome: Literal["filled", "held", "rejected"]
    reason_code: str | None = None
    message: str | None = None
    fill: Fill | None = None
    order_no: int | None = None
    at_ms: int


class AccountSide(Protocol):
    account_id: str | None

    async def book(self) -> tuple[AccountBook, Limits]: ...

    async def submit(
        self, action: Action, marks: Mapping[str, Decimal], now_ms: int
    ) -> Execution: ...


def book_of(s: AccountSnapshot) -> AccountBook:
    """The prop snapshot as a book (what `legal_for` and the prompt's account block read)."""
    return AccountBook(
        balance_micro=s.balance_micro,
        positions={p.symbol: p for p in s.positions},
        status=s.status,
        halt_reason=s.halt_reason,
        peak_equity_micro=s.peak_equity_micro,
        day_start_equity_micro=s.day_start_equity_micro,
        day=s.at_ms // DAY_MS,
        funding_hour=s.at_ms // HOUR_MS,
        deposits_micro=s.deposits_micro,
        realized_pnl_micro=s.realized_pnl_micro,
        fees_paid_micro=s.fees_paid_micro,
        funding_paid_micro=s.funding_paid_micro,
        liquidation_micro=s.liquidation_micro,
        updated_at_ms=s.at_ms,
    )


class PropSide:
    """A live prop account, through the prop module's public API. `at_tick`: the account as its
    pilot read it at the tick; the runs of one tick decide on that one state, whichever of them
    commits first."""

    def __init__(self, prop: Any, account_id: str, at_tick: AccountSnapshot | None = None) -> None:
        self.prop = prop
        self.account_id: str | None = account_id
        self.at_tick = at_tick

    async def book(self) -> tuple[AccountBook, Limits]:
        snapshot = self.at_tick or await self.prop.snapshot(self.account_id)
        return book_of(snapshot), snapshot.limits

    async def submit(self, action: Action, marks: Mapping[str, Decimal], now_ms: int) -> Execution:
        r = await self.prop.submit(self.account_id, action)
        return Execution(
            outcome=r.outcome,
            reason_code=r.reason_code,
            message=r.message,
            fill=r.fill,
            order_no=r.order_no,
            at_ms=r.at_ms,
        )


class SyntheticSide:
    """A dry run's account: a fresh book at the default starting equity, never persisted."""

    account_id: str | None = None

    def __init__(self, limits: Limits, specs: Mapping[str, AssetSpec], now_ms: int) -> None:
        self.limits = limits
        self.specs = dict(specs)
        self._book = open_account(now_ms, limits).book

    async def book(self) -> tuple[AccountBook, Limits]:
        return self._book, self.limits

    async def submit(self, action: Action, marks: Mapping[str, Decimal], now_ms: int) -> Execution:
        out = self._book.submit(action, self.specs, marks, now_ms, self.limits)
        if out.rejection is not None:
            return Execution(
                outcome="rejected",
                reason_code=out.rejection.code,
                message=out.rejection.message,
                at_ms=now_ms,
            )
        if out.fills:
            return Execution(outcome="filled", fill=out.fills[0], at_ms=now_ms)
        return Execution(outcome="held", at_ms=now_ms)
