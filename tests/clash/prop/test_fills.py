from decimal import Decimal

import pytest

from clash.prop.book import AccountBook
from clash.prop.fills import (
    AssetSpec,
    Fill,
    Position,
    apply_fill,
    average_entry_px,
    fill_at_price,
    fill_market_order,
    funding_payment,
    liquidation_due,
    maintenance_margin_micro,
    stop_or_take_profit_hit,
    unrealized_pnl_micro,
)

D = Decimal
BTC = AssetSpec(symbol="BTC", sz_decimals=5, max_leverage=40)
SLIP = D(5)
FEE = D("4.5")


def market(side, size, ref_px, at_ms=0, asset=BTC):
    return fill_market_order(asset, side, D(size), D(ref_px), at_ms, slippage_bps=SLIP, fee_bps=FEE)


def position(side="long", size="0.1", entry="100000", leverage=5, **kw):
    return Position(
        symbol="BTC",
        side=side,
        size=D(size),
        entry_px=D(entry),
        leverage=leverage,
        margin_micro=0,
        mark_px=D(entry),
        opened_at_ms=0,
        updated_at_ms=0,
        **kw,
    )


def amounts(transition):
    return {e.kind: e.amount_micro for e in transition.ledger}


def test_a_buy_fills_above_the_reference_price_with_a_taker_fee():
    fill = market("buy", "0.1", "100000")
    assert fill.px == D("100050")  # 100000 * 1.0005
    assert fill.size == D("0.1")
    assert fill.notional_micro == 10_005_000_000
    assert fill.fee_micro == 4_502_250  # 10005 * 0.00045


def test_a_sell_fills_below_and_the_tick_rounding_also_goes_against_the_trader():
    fill = market("sell", "0.05", "103000")
    assert fill.px == D("102948")  # 102948.5 floored to the integer tick
    buy = market("buy", "0.05", "103000")
    assert buy.px == D("103052")  # 103051.5 ceiled to the integer tick
    small = market("sell", "0.05", "3000.1")
    assert small.px == D("2998.5")  # 2998.59995 floored to 6 - szDecimals = 1 decimal


def test_sizes_are_truncated_and_fees_rounded_up_to_the_micro_dollar():
    fill = market("buy", "0.000119", "100000")
    assert fill.size == D("0.00011")
    assert fill.fee_micro == 4_953  # 11.0055 * 0.00045 = 0.004952475 -> up
    with pytest.raises(ValueError):
        market("buy", "0.000009", "100000")


def test_open():
    t = apply_fill(None, market("buy", "0.1", "100000", at_ms=7), leverage=5, stop_loss=D(95000))
    assert t.event == "open"
    p = t.position
    assert (p.side, p.size, p.entry_px, p.leverage) == ("long", D("0.1"), D("100050"), 5)
    assert p.margin_micro == 2_001_000_000  # 10005 / 5
    assert p.mark_px == D("100000") and p.opened_at_ms == 7 and p.stop_loss == D(95000)
    assert amounts(t) == {"fee": -4_502_250}
    assert t.realized_micro == 0


def test_opening_needs_a_leverage():
    with pytest.raises(ValueError):
        apply_fill(None, market("buy", "0.1", "100000"))


def test_add_averages_the_entry_and_keeps_stops_not_replaced():
    opened = apply_fill(
        None, market("buy", "0.1", "100000"), leverage=5, stop_loss=D(95000)
    ).position
    t = apply_fill(
        opened, market("buy", "0.1", "102000", at_ms=9), leverage=4, take_profit=D(110000)
    )
    assert t.event == "add"
    p = t.position
    assert p.size == D("0.2")
    assert p.entry_px == D("101050.5")  # (100050 + 102051) / 2
    assert p.leverage == 4
    assert p.margin_micro == 5_052_525_000  # 0.2 * 101050.5 / 4
    assert (p.stop_loss, p.take_profit) == (D(95000), D(110000))
    assert p.opened_at_ms == 0 and p.updated_at_ms == 9
    assert amounts(t) == {"fee": -4_592_295}  # 0.1 * 102051 * 0.00045


def test_reduce_realises_pnl_on_the_closed_part():
    p = position(size="0.2", entry="101050.5", leverage=4)
    t = apply_fill(p, market("sell", "0.05", "103000"))
    assert t.event == "reduce"
    assert t.position.size == D("0.15")
    assert t.position.entry_px == D("101050.5")
    assert t.position.margin_micro == 3_789_393_750  # 0.15 * 101050.5 / 4
    assert t.realized_micro == 94_875_000  # 0.05 * (102948 - 101050.5)
    assert amounts(t) == {"fee": -2_316_330, "realized_pnl": 94_875_000}  # 5147.4 * 0.00045


def test_close_realises_a_loss():
    p = position(size="0.15", entry="101050.5")
    t = apply_fill(p, market("sell", "0.15", "99000"))
    assert (t.event, t.position) == ("close", None)
    assert amounts(t) == {"fee": -6_679_125, "realized_pnl": -315_075_000}  # fill at 98950


def test_short_close_gains_when_price_falls():
    p = position(side="short", size="0.1", entry="100000")
    t = apply_fill(p, market("buy", "0.1", "90000"))
    assert t.event == "close"
    assert t.realized_micro == 995_500_000  # 0.1 * (100000 - 90045)


def test_flip_closes_then_opens_the_rest_on_the_other_side():
    p = position(size="0.1", entry="100050", stop_loss=D(95000))
    t = apply_fill(p, market("sell", "0.3", "101000"), leverage=3, stop_loss=D(110000))
    assert t.event == "flip"
    new = t.position
    assert (new.side, new.size, new.entry_px, new.leverage) == ("short", D("0.2"), D("100949"), 3)
    assert new.stop_loss == D(110000) and new.take_profit is None
    assert amounts(t) == {"fee": -13_628_115, "realized_pnl": 89_900_000}  # 0.3 * 100949 * 0.00045


def test_unrealised_pnl_floors_to_the_micro_dollar():
    p = position(size="0.00003", entry="100000")
    assert unrealized_pnl_micro(p, D("110000")) == 300_000
    assert unrealized_pnl_micro(p, D("100000.01")) == 0  # +0.0000003
    assert unrealized_pnl_micro(p, D("99999.99")) == -1  # -0.0000003
    short = position(side="short", size="2", entry="100")
    assert unrealized_pnl_micro(short, D("90")) == 20_000_000


def test_average_entry_keeps_eighteen_significant_digits():
    assert average_entry_px(D(1), D(1), D(2), D(2)) == D("1.66666666666666667")


@pytest.mark.parametrize(
    ("side", "rate", "expected"),
    [
        ("long", "0.0000125", -125_000),  # 0.1 * 100000 * 0.0000125 = 0.125, longs pay
        ("short", "0.0000125", 125_000),
        ("long", "-0.0000125", 125_000),
        ("short", "-0.0000125", -125_000),
        ("long", "0.00000000005", -1),  # 0.0000005 USD rounds against the account
        ("short", "0.00000000005", 0),
    ],
)
def test_funding_sign(side, rate, expected):
    entry = funding_payment(position(side=side), D(rate), D(100000), at_ms=3_600_000)
    assert (entry.kind, entry.amount_micro, entry.symbol, entry.at_ms) == (
        "funding",
        expected,
        "BTC",
        3_600_000,
    )


def test_maintenance_margin_is_half_the_initial_margin_at_max_leverage():
    assert maintenance_margin_micro(position(size="0.1"), D(100000), BTC) == 125_000_000  # 10000/80
    assert (
        maintenance_margin_micro(position(size="0.00001"), D(33333), BTC) == 4_167
    )  # 0.0041666.. up


def _book(balance_usd: int, *positions: Position) -> AccountBook:
    return AccountBook(
        balance_micro=balance_usd * 1_000_000,
        positions={p.symbol: p for p in positions},
        peak_equity_micro=0,
        day_start_equity_micro=0,
        day=0,
        funding_hour=0,
        updated_at_ms=0,
    )


def test_liquidation_thresholds_are_the_maintenance_margin_and_two_thirds_of_it():
    # 10000 USD and 1 BTC long from 100000 at 40x: equity m - 90000, maintenance m / 80.
    book = _book(10_000, position(size="1", entry="100000", leverage=40))
    assets = {"BTC": BTC}
    assert liquidation_due(book, assets, {"BTC": D(91140)}) is None  # 1140 vs 1139.25
    assert liquidation_due(book, assets, {"BTC": D(91139)}) == "liquidation"  # 1139 < 1139.2375
    # 757 vs 2/3 of 1134.4625 = 756.308...: still a market liquidation
    assert liquidation_due(book, assets, {"BTC": D(90757)}) == "liquidation"
    # 756 < 2/3 of 1134.45 = 756.3: the backstop takes over
    assert liquidation_due(book, assets, {"BTC": D(90756)}) == "backstop_liquidation"
    assert liquidation_due(book, assets, {"BTC": D(80000)}) == "backstop_liquidation"  # negative
    assert liquidation_due(_book(-5), assets, {}) is None  # nothing open, nothing to liquidate


@pytest.mark.parametrize(
    ("side", "mark", "expected"),
    [
        ("long", "95000", "stop_loss"),
        ("long", "94000", "stop_loss"),
        ("long", "95001", None),
        ("long", "110000", "take_profit"),
        ("short", "105000", "stop_loss"),
        ("short", "90000", "take_profit"),
        ("short", "100000", None),
    ],
)
def test_stops_and_take_profits(side, mark, expected):
    if side == "long":
        p = position(side=side, stop_loss=D(95000), take_profit=D(110000))
    else:
        p = position(side=side, stop_loss=D(105000), take_profit=D(90000))
    assert stop_or_take_profit_hit(p, D(mark)) == expected


def test_no_triggers_no_hit():
    assert stop_or_take_profit_hit(position(), D(1)) is None


def test_a_backstop_fill_is_at_the_mark_without_fee():
    fill = fill_at_price("BTC", "sell", D("0.1"), D("91139.5"), 5, cause="backstop_liquidation")
    assert isinstance(fill, Fill)
    assert (fill.px, fill.ref_px, fill.fee_micro, fill.cause) == (
        D("91139.5"),
        D("91139.5"),
        0,
        "backstop_liquidation",
    )
