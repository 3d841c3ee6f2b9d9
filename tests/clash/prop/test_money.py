from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clash.prop.money import (
    MICRO,
    bps,
    format_usd,
    from_micro,
    round_price,
    round_size,
    to_micro,
    usd,
)


def test_usd_is_exact_from_strings_and_whole_dollars():
    assert usd(10_000) == 10_000 * MICRO
    assert usd("12.5") == 12_500_000
    assert usd("0.000001") == 1
    assert usd("-3.25") == -3_250_000
    assert usd(Decimal("1.100000000")) == 1_100_000


@pytest.mark.parametrize("bad", ["0.0000001", "1.2345678", "nan", "inf"])
def test_usd_refuses_what_micro_dollars_cannot_hold(bad):
    with pytest.raises(ValueError):
        usd(bad)


def test_usd_refuses_floats():
    with pytest.raises(TypeError):
        usd(0.1)  # type: ignore[arg-type]


def test_format_usd_renders_six_decimals_with_sign():
    assert format_usd(123_456_789) == "123.456789"
    assert format_usd(0) == "0.000000"
    assert format_usd(-1) == "-0.000001"
    assert format_usd(-10_000 * MICRO) == "-10000.000000"
    assert usd(format_usd(-987_654_321)) == -987_654_321


def test_to_micro_rounds_against_the_account_by_default():
    assert to_micro(Decimal("1.0000019")) == 1_000_001
    assert to_micro(Decimal("-1.0000011")) == -1_000_002
    assert to_micro(Decimal("0.0000005"), ROUND_CEILING) == 1
    assert from_micro(1_500_000) == Decimal("1.5")


def test_bps():
    assert bps("4.5") == Decimal("0.00045")
    assert bps(5) == Decimal("0.0005")


def test_round_size_truncates_toward_zero():
    assert round_size(Decimal("0.123456789"), 5) == Decimal("0.12345")
    assert round_size(Decimal("1999.99"), 0) == Decimal("1999")
    assert round_size(Decimal("0.00000999"), 5) == 0
    assert round_size(Decimal("-1.99"), 1) == Decimal("-1.9")


@pytest.mark.parametrize(
    ("px", "sz_decimals", "is_spot", "expected"),
    [
        ("104123.7", 5, False, "104124"),  # from 10,000 up the nearest integer is the tick
        ("104123", 5, False, "104123"),  # an integer price is always valid
        ("100286.4", 5, False, "100286"),  # not 100290: integers beat five figures
        ("1234567.89", 5, False, "1234568"),
        ("99999.6", 5, False, "100000"),
        ("99999.4", 5, False, "99999"),
        ("12345.67", 5, False, "12346"),  # five significant figures bind
        ("9876.54", 5, False, "9876.5"),
        ("3456.789", 4, False, "3456.8"),  # ETH: 5 sig figs bind first
        ("12.34567", 4, False, "12.35"),  # ETH: at most 6 - 4 = 2 decimals
        ("1.234567", 2, False, "1.2346"),
        ("0.00012345678", 0, False, "0.000123"),  # kPEPE-like: at most 6 decimals
        ("0.0123456", 1, False, "0.01235"),  # szDecimals 1: at most 5 decimals
        ("0.0000123456789", 0, True, "0.00001235"),  # spot: 8 - 0 decimals
        ("0.0001234", 2, True, "0.000123"),  # spot, szDecimals 2: 6 decimals
        ("1234.50", 2, False, "1234.5"),
    ],
)
def test_round_price_follows_the_tick_rule(px, sz_decimals, is_spot, expected):
    rounded = round_price(Decimal(px), sz_decimals, is_spot)
    assert rounded == Decimal(expected)
    assert str(rounded) == expected


def test_round_price_direction_is_selectable():
    assert round_price(Decimal("104121"), 5) == Decimal("104121")
    assert round_price(Decimal("104121.5"), 5, rounding=ROUND_CEILING) == Decimal("104122")
    assert round_price(Decimal("104128.5"), 5, rounding=ROUND_FLOOR) == Decimal("104128")


@pytest.mark.parametrize(
    ("px", "up", "down"),
    [
        ("99999.95", "100000", "99999"),  # just below the boundary
        ("99998.2", "99999", "99998"),
        ("100000.01", "100001", "100000"),  # just above it
        ("100286.4", "100287", "100286"),
        ("100286.6", "100287", "100286"),
        ("9999.95", "10000", "9999.9"),  # 5 figures below 10,000
    ],
)
def test_rounding_at_and_above_100k_goes_to_the_nearest_integer_tick_in_its_direction(px, up, down):
    assert round_price(Decimal(px), 5, rounding=ROUND_CEILING) == Decimal(up)
    assert round_price(Decimal(px), 5, rounding=ROUND_FLOOR) == Decimal(down)


@pytest.mark.parametrize("bad", ["0", "-1", "0.0000001"])
def test_round_price_refuses_prices_without_a_tick(bad):
    with pytest.raises(ValueError):
        round_price(Decimal(bad), 0)


@settings(max_examples=300, deadline=None)
@given(
    px=st.decimals(Decimal("10000"), Decimal("10000000"), places=3),
    sz_decimals=st.integers(0, 5),
)
def test_from_10k_up_a_price_rounds_to_an_adjacent_integer_against_the_trader(px, sz_decimals):
    up = round_price(px, sz_decimals, rounding=ROUND_CEILING)
    down = round_price(px, sz_decimals, rounding=ROUND_FLOOR)
    assert down <= px <= up and up - down <= 1
    assert up == up.to_integral_value() and down == down.to_integral_value()
    assert round_price(up, sz_decimals) == up and round_price(down, sz_decimals) == down
