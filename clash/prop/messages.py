"""What a prop account actor is sent, and what it answers."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from actors import Message
from clash.prop.book import AccountBook, BookState
from clash.prop.fills import Fill, Position
from clash.prop.gates import Action, Limits

AccountKind = Literal["sandbox", "audition", "race", "backtest"]
AdminOp = Literal["pause", "resume", "flatten", "kill"]
SubmitOutcome = Literal["filled", "rejected", "held"]


class PropSubmit(Message, frozen=True):
    """Gate and paper-fill one action; answered with a `SubmitResult` (the first, on a resubmit)."""

    action: Action


class PropSnapshot(Message, frozen=True):
    """Answered with an `AccountSnapshot` of the account as the actor holds it."""


class PropControl(Message, frozen=True):
    """An admin's pause, resume, flatten or kill; answered with an `AccountSnapshot`."""

    op: AdminOp
    admin: str


class PropFinalize(Message, frozen=True):
    """Mark one last time, freeze, write the result; answered with the result `AccountSnapshot`."""


class PropMark(Message, frozen=True):
    """Timer: mark to market, check stops, halts and liquidation, write an equity snapshot."""


class PropFunding(Message, frozen=True):
    """Timer: one hour of funding on the open positions."""


class PropRetention(Message, frozen=True):
    """Timer: thin equity snapshots older than the dense window to one per hour."""


class SubmitResult(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    action_id: str
    outcome: SubmitOutcome
    reason_code: str | None = None
    message: str | None = None
    fill: Fill | None = None
    order_no: int | None = None
    balance_micro: int
    equity_micro: int
    at_ms: int
    replayed: bool = False
    """True when this action id was submitted before and this is the first submission's result."""


class AccountRow(BookState, frozen=True, kw_only=True):
    """A `prop_accounts` row: who the account is, its limits and counters, and its book state
    (as of the last committed step)."""

    account_id: str
    clone_id: int
    owner_user_id: str | None
    kind: AccountKind
    universe: list[str]
    limits: Limits
    max_drawdown_ppm: int = 0
    """Largest peak-to-trough drop seen at a mark, in millionths of the peak (rounded up)."""
    orders_count: int = 0
    actions_filled: int = 0
    actions_rejected: int = 0
    actions_held: int = 0
    created_at_ms: int
    finalized_at_ms: int | None = None

    def with_book(self, book: BookState, **changes: Any) -> AccountRow:
        """This row carrying `book`'s state (plus any other column changes)."""
        return msgspec.structs.replace(self, **book.book_state(), **changes)


class AccountSnapshot(AccountRow, frozen=True, kw_only=True):
    """The account at `at_ms`: its row, its positions and the figures derived from them."""

    equity_micro: int
    unrealized_micro: int
    drawdown_micro: int
    return_ppm: int
    """(equity - deposits) / deposits, in millionths (rounded down)."""
    gross_exposure_micro: int
    positions: list[Position]
    at_ms: int

    @classmethod
    def of(cls, row: AccountRow, book: AccountBook, at_ms: int) -> AccountSnapshot:
        """`row` carrying `book`'s state, with the figures at the positions' last marks."""
        equity = book.equity_micro()
        deposits = book.deposits_micro
        return cls(
            **msgspec.structs.asdict(row.with_book(book)),
            equity_micro=equity,
            unrealized_micro=equity - book.balance_micro,
            drawdown_micro=max(book.peak_equity_micro - equity, 0),
            return_ppm=(equity - deposits) * 1_000_000 // deposits if deposits > 0 else 0,
            gross_exposure_micro=book.gross_exposure_micro(),
            positions=[book.positions[s] for s in sorted(book.positions)],
            at_ms=at_ms,
        )


class PropRefused(msgspec.Struct, frozen=True, kw_only=True):
    """An actor's answer when the account no longer takes the message (it is finalized)."""

    account_id: str
    code: Literal["account_finalized"]
    message: str
