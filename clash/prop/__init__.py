"""Prop: simulated Hyperliquid-style accounts, one actor each, every change a ledger row.

The contract: other modules drive accounts only through `PropModule` (open, submit, control,
snapshot, history reads) and read its answers as the value types below. The pure pieces other
modules legitimately reuse are exported too: the account book (`AccountBook`, `open_account`), the
action gate's types (`Action`, `ActionKind`, `Limits`), the fill math (`AssetSpec`, `Position`,
`Fill`, `notional_micro`, `unrealized_pnl_micro`) and the money helpers (integers of micro-USD).
Everything else (`account`, `tables`, `manager`, `prices` internals) is private to the package.
"""

from clash.prop.book import AccountBook, open_account
from clash.prop.config import LimitsConfig, PropConfig
from clash.prop.fills import (
    AssetSpec,
    CashEntry,
    Fill,
    Position,
    notional_micro,
    unrealized_pnl_micro,
)
from clash.prop.gates import DEFAULT_LIMITS, Action, ActionKind, Limits
from clash.prop.manager import AccountFinalized, AccountNotFound, PropError
from clash.prop.messages import (
    AccountRow,
    AccountSnapshot,
    AdminOp,
    PropControl,
    PropFinalize,
    PropFunding,
    PropMark,
    PropRefused,
    PropRetention,
    PropSnapshot,
    PropSubmit,
    SubmitResult,
)
from clash.prop.module import PropModule
from clash.prop.money import exact, format_usd, from_micro, plain, usd
from clash.prop.prices import MarketReads, PriceSource, PriceUnavailable
from clash.prop.tables import EquityPoint, FillRow, LedgerRow, OrderRow

__all__ = [
    "DEFAULT_LIMITS",
    "AccountBook",
    "AccountFinalized",
    "AccountNotFound",
    "AccountRow",
    "AccountSnapshot",
    "Action",
    "ActionKind",
    "AdminOp",
    "AssetSpec",
    "CashEntry",
    "EquityPoint",
    "Fill",
    "FillRow",
    "LedgerRow",
    "Limits",
    "LimitsConfig",
    "MarketReads",
    "OrderRow",
    "Position",
    "PriceSource",
    "PriceUnavailable",
    "PropConfig",
    "PropControl",
    "PropError",
    "PropFinalize",
    "PropFunding",
    "PropMark",
    "PropModule",
    "PropRefused",
    "PropRetention",
    "PropSnapshot",
    "PropSubmit",
    "SubmitResult",
    "exact",
    "format_usd",
    "from_micro",
    "notional_micro",
    "open_account",
    "plain",
    "unrealized_pnl_micro",
    "usd",
]
