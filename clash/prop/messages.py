"""What a prop account actor is sent, and what it answers."""

from __future__ import annotations

from typing import Literal

import msgspec

from actors import Message
from clash.prop.book import HaltReason, Status
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


class AccountSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    clone_id: str
    owner_user_id: str | None
    kind: AccountKind
    status: Status
    halt_reason: HaltReason | None
    universe: list[str]
    limits: Limits
    balance_micro: int
    equity_micro: int
    unrealized_micro: int
    peak_equity_micro: int
    drawdown_micro: int
    max_drawdown_ppm: int
    """Largest peak-to-trough drop seen at a mark, in millionths of the peak (rounded up)."""
    return_ppm: int
    """(equity - deposits) / deposits, in millionths (rounded down)."""
    day_start_equity_micro: int
    deposits_micro: int
    realized_pnl_micro: int
    fees_paid_micro: int
    funding_paid_micro: int
    liquidation_micro: int
    gross_exposure_micro: int
    positions: list[Position]
    actions_filled: int
    actions_rejected: int
    actions_held: int
    created_at_ms: int
    updated_at_ms: int
    at_ms: int
    finalized_at_ms: int | None = None


class PropRefused(msgspec.Struct, frozen=True, kw_only=True):
    """An actor's answer when the account no longer takes the message (it is finalized)."""

    account_id: str
    code: Literal["account_finalized"]
    message: str
