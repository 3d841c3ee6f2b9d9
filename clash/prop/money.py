"""Money and Hyperliquid precision.

Cash is integer micro-USD. Prices, sizes and rates are ``decimal.Decimal``. The two meet at one
boundary, :func:`to_micro`, and the rule there is a single one: every signed cash delta is rounded
toward negative infinity, i.e. against the account. A fee is therefore rounded up, a loss is rounded
to the larger loss and a gain to the smaller gain. Each delta becomes an integer exactly once and
that integer is the ledger row, so balances (sums of rows) are exact by construction.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from decimal import (
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)

MICRO = 1_000_000
PERP_MAX_DECIMALS = 6
SPOT_MAX_DECIMALS = 8
PRICE_SIG_FIGS = 5

_MICRO_QUANTUM = Decimal(1).scaleb(-6)
_BPS = Decimal(10_000)
_EXACT = Context(prec=80, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])
_WIDE = Context(prec=80, traps=[InvalidOperation, DivisionByZero, Overflow])


def exact() -> AbstractContextManager[Context]:
    """A decimal context in which any rounding raises ``decimal.Inexact``.

    Products and differences of prices, sizes and rates are exact; wrapping them in this context
    turns a silent precision loss into an error.
    """
    return localcontext(_EXACT)


def wide() -> AbstractContextManager[Context]:
    """A high-precision decimal context for the few divisions (sizing, average entry)."""
    return localcontext(_WIDE)


def usd(amount: str | int | Decimal) -> int:
    """Micro-USD from a whole-dollar int or an exact decimal string such as ``"12.5"``."""
    if isinstance(amount, bool) or not isinstance(amount, (str, int, Decimal)):
        raise TypeError(f"usd() takes str, int or Decimal, not {type(amount).__name__}")
    value = Decimal(amount) if not isinstance(amount, Decimal) else amount
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    with exact():
        try:
            micro = value.scaleb(6).to_integral_exact()
        except Inexact:
            raise ValueError(f"{amount!r} has more than 6 decimals") from None
    return int(micro)


def from_micro(micro: int) -> Decimal:
    return Decimal(micro).scaleb(-6)


def format_usd(micro: int) -> str:
    """``1234567`` -> ``"1.234567"``; always six decimals, sign in front."""
    sign = "-" if micro < 0 else ""
    whole, frac = divmod(abs(micro), MICRO)
    return f"{sign}{whole}.{frac:06d}"


def to_micro(amount: Decimal, rounding: str = ROUND_FLOOR) -> int:
    """USD -> micro-USD; the default rounding is the ledger rule (against the account)."""
    with wide():
        return int(amount.quantize(_MICRO_QUANTUM, rounding=rounding).scaleb(6))


def bps(value: Decimal | int | str) -> Decimal:
    """Basis points as a fraction: ``bps("4.5") == Decimal("0.00045")``."""
    return Decimal(value) / _BPS


def round_size(size: Decimal, sz_decimals: int) -> Decimal:
    """Truncate a size (toward zero) to the asset's ``szDecimals``."""
    with wide():
        return size.quantize(Decimal(1).scaleb(-sz_decimals), rounding=ROUND_DOWN)


def round_price(
    px: Decimal, sz_decimals: int, is_spot: bool = False, rounding: str = ROUND_HALF_EVEN
) -> Decimal:
    """Round a price to the nearest valid tick in the ``rounding`` direction.

    Hyperliquid's tick rule: at most 5 significant figures and at most ``6 - szDecimals`` decimals
    (``8 - szDecimals`` for spot), and an integer price is always valid whatever its significant
    figures. So from 10,000 up the tick is 1 (BTC at 100,286.4 rounds to 100,286, not 100,290).
    """
    if not px.is_finite() or px <= 0:
        raise ValueError(f"price must be positive, got {px}")
    if px == px.to_integral_value():
        return px.quantize(Decimal(1))
    max_decimals = (SPOT_MAX_DECIMALS if is_spot else PERP_MAX_DECIMALS) - sz_decimals
    sig_decimals = PRICE_SIG_FIGS - 1 - px.adjusted()
    decimals = max(min(max_decimals, sig_decimals), 0)
    with wide():
        rounded = px.quantize(Decimal(1).scaleb(-decimals), rounding=rounding)
    if rounded == 0:
        raise ValueError(f"price {px} is below the smallest tick for szDecimals={sz_decimals}")
    return plain(rounded)


def plain(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (``1.0412E+5`` -> ``104120``)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()
