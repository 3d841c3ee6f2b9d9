"""Prop trading settings (the `[prop]` section)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec
from msgspec import Meta

from clash.prop.gates import DEFAULT_LIMITS, Limits

_D = DEFAULT_LIMITS

Seconds = Annotated[float, Meta(gt=0, le=365 * 86_400)]
Micro = Annotated[int, Meta(ge=0, le=10**15)]
"""Micro-USD up to a billion dollars."""
Bps = Annotated[Decimal, Meta(extra={"ge": 0, "le": 1000})]
Fraction = Annotated[Decimal, Meta(extra={"gt": 0, "le": 1})]
Multiple = Annotated[Decimal, Meta(extra={"gt": 0, "le": 1000})]


class LimitsConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Default risk limits of a new account (`[prop.limits]`); mirrors `clash.prop.gates.Limits`.

    Decimals are best written as strings in TOML (`taker_fee_bps = "4.5"`).
    """

    starting_equity_micro: Annotated[int, Meta(gt=0, le=10**15)] = _D.starting_equity_micro
    slippage_bps: Bps = _D.slippage_bps
    taker_fee_bps: Bps = _D.taker_fee_bps
    min_notional_micro: Micro = _D.min_notional_micro
    max_leverage: Annotated[int, Meta(ge=1, le=100)] = _D.max_leverage
    max_asset_exposure: Multiple = _D.max_asset_exposure
    max_gross_exposure: Multiple = _D.max_gross_exposure
    min_confidence: Annotated[Decimal, Meta(extra={"ge": 0, "le": 1})] = _D.min_confidence
    daily_loss_halt: Fraction = _D.daily_loss_halt
    max_drawdown_halt: Fraction = _D.max_drawdown_halt

    def to_limits(self) -> Limits:
        return Limits(**msgspec.structs.asdict(self))


class PropConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    mark_interval_s: Seconds = 10.0
    """How often every account is marked to market."""
    snapshot_interval_s: Seconds = 10.0
    """Least time between two equity snapshots of an account. A mark that moves cash (a stop, a
    halt, a liquidation) is written at once; a mark that only moves prices is written with the next
    snapshot. Equal to `mark_interval_s` means every mark is written."""
    funding_interval_s: Seconds = 3600.0
    retention_interval_s: Seconds = 3600.0
    dense_snapshots_s: Seconds = 86_400.0
    """Snapshots younger than this are all kept; older ones are thinned to one per hour."""
    ask_timeout_s: Seconds = 10.0
    max_restarts: Annotated[int, Meta(ge=0, le=1000)] = 5
    """Restarts of one account actor within `restart_window_s` before its supervisor escalates."""
    restart_window_s: Seconds = 60.0
    limits: LimitsConfig = msgspec.field(default_factory=LimitsConfig)

    def __post_init__(self) -> None:
        for name in (
            "mark_interval_s",
            "snapshot_interval_s",
            "funding_interval_s",
            "retention_interval_s",
            "dense_snapshots_s",
            "ask_timeout_s",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"prop.{name} must be positive")
