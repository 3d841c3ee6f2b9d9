"""Prop trading settings (the `[prop]` section)."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from clash.prop.gates import DEFAULT_LIMITS, Limits

_D = DEFAULT_LIMITS


class LimitsConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Default risk limits of a new account (`[prop.limits]`); mirrors `clash.prop.gates.Limits`.

    Decimals are best written as strings in TOML (`taker_fee_bps = "4.5"`).
    """

    starting_equity_micro: int = _D.starting_equity_micro
    slippage_bps: Decimal = _D.slippage_bps
    taker_fee_bps: Decimal = _D.taker_fee_bps
    min_notional_micro: int = _D.min_notional_micro
    max_leverage: int = _D.max_leverage
    max_asset_exposure: Decimal = _D.max_asset_exposure
    max_gross_exposure: Decimal = _D.max_gross_exposure
    min_confidence: Decimal = _D.min_confidence
    daily_loss_halt: Decimal = _D.daily_loss_halt
    max_drawdown_halt: Decimal = _D.max_drawdown_halt

    def to_limits(self) -> Limits:
        return Limits(**msgspec.structs.asdict(self))


class PropConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    mark_interval_s: float = 10.0
    """How often every account is marked to market."""
    snapshot_interval_s: float = 10.0
    """Least time between two equity snapshots of an account. A mark that moves cash (a stop, a
    halt, a liquidation) is written at once; a mark that only moves prices is written with the next
    snapshot. Equal to `mark_interval_s` means every mark is written."""
    funding_interval_s: float = 3600.0
    retention_interval_s: float = 3600.0
    dense_snapshots_s: float = 86_400.0
    """Snapshots younger than this are all kept; older ones are thinned to one per hour."""
    ask_timeout_s: float = 10.0
    max_restarts: int = 5
    """Restarts of one account actor within `restart_window_s` before its supervisor escalates."""
    restart_window_s: float = 60.0
    limits: LimitsConfig = msgspec.field(default_factory=LimitsConfig)

    def __post_init__(self) -> None:
        for name in ("mark_interval_s", "snapshot_interval_s", "funding_interval_s",
                     "retention_interval_s", "dense_snapshots_s", "ask_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"prop.{name} must be positive")
