"""Which actions are legal for one asset now: pure, decided before any model is called.

The rules (docs/engines.md):

- an account that is not ``active`` (paused, halted, liquidated) may only hold: the prop gates refuse
  every other action in those states, closes included, and a halt has already flattened;
- with a position open on the asset: hold, reduce or close. No add and no flip: one position per
  asset, managed through its exit plan; reversing is a close now and an open on a later run, so each
  leg is gated and audited on its own;
- without a position: hold, open_long, open_short, unless the asset or the gross exposure cap leaves
  no room for a new entry (then only hold); ``can_short=False`` (spot) removes open_short.

When only hold is legal the scheduler records a hold without calling the engine (:func:`only_hold`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from clash.prop import AccountBook, ActionKind, Limits, Position, exact, from_micro

ACTION_ORDER: tuple[ActionKind, ...] = ("open_long", "open_short", "reduce", "close", "hold")
"""Canonical order, used wherever actions are listed (prompt, schema, errors)."""

HOLD_ONLY: frozenset[ActionKind] = frozenset({"hold"})


def legal_actions(
    position: Position | None,
    at_asset_cap: bool,
    at_gross_cap: bool,
    account_status: str,
    *,
    can_short: bool = True,
) -> frozenset[ActionKind]:
    if account_status != "active":
        return HOLD_ONLY
    if position is not None:
        return frozenset({"hold", "reduce", "close"})
    if at_asset_cap or at_gross_cap:
        return HOLD_ONLY
    entries: set[ActionKind] = {"hold", "open_long"}
    if can_short:
        entries.add("open_short")
    return frozenset(entries)


def only_hold(legal: Iterable[str]) -> bool:
    """True when the engine need not be called: hold is the only legal answer."""
    return frozenset(legal) <= HOLD_ONLY


def ordered(legal: Iterable[str]) -> list[ActionKind]:
    """``legal`` in :data:`ACTION_ORDER`."""
    wanted = frozenset(legal)
    return [a for a in ACTION_ORDER if a in wanted]


def exposure_caps(
    book: AccountBook, symbol: str, marks: Mapping[str, Decimal], limits: Limits
) -> tuple[bool, bool]:
    """``(at_asset_cap, at_gross_cap)``: whether a minimum-size entry on ``symbol`` would break the
    per-asset or the gross exposure cap (the same multiples of equity the prop gates use)."""
    equity = from_micro(book.equity_micro(marks))
    minimum = from_micro(limits.min_notional_micro)
    with exact():
        notional = {s: p.size * marks.get(s, p.mark_px) for s, p in book.positions.items()}
        held = notional.get(symbol, Decimal(0))
        gross = sum(notional.values(), Decimal(0))
        at_asset = held + minimum > limits.max_asset_exposure * equity
        at_gross = gross + minimum > limits.max_gross_exposure * equity
    return at_asset, at_gross


def legal_for(
    book: AccountBook,
    symbol: str,
    marks: Mapping[str, Decimal],
    limits: Limits,
    *,
    can_short: bool = True,
) -> frozenset[ActionKind]:
    """:func:`legal_actions` read straight off an account book."""
    at_asset, at_gross = exposure_caps(book, symbol, marks, limits)
    return legal_actions(
        book.positions.get(symbol), at_asset, at_gross, book.status, can_short=can_short
    )
