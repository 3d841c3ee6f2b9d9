from decimal import Decimal
from typing import get_args

import msgspec
import pytest

from clash.prop.book import AccountBook, open_account
from clash.prop.fills import AssetSpec
from clash.prop.gates import (
    Action,
    Limits,
    Order,
    Rejection,
    RejectionCode,
    check_action,
    plan_order,
)
from clash.prop.money import usd

D = Decimal
LIMITS = Limits()
ASSETS = {
    "BTC": AssetSpec(symbol="BTC", sz_decimals=5, max_leverage=40),
    "ETH": AssetSpec(symbol="ETH", sz_decimals=4, max_leverage=25),
    "LOW": AssetSpec(symbol="LOW", sz_decimals=0, max_leverage=3),
    "OFF": AssetSpec(symbol="OFF", sz_decimals=2, max_leverage=10, enabled=False),
}
MARKS = {"BTC": D(100_000), "ETH": D(2_500), "LOW": D(2), "OFF": D(10)}


def fresh() -> AccountBook:
    return open_account(0, LIMITS).book


def act(kind="open_long", symbol="BTC", **kw) -> Action:
    if kind.startswith("open") and "size_usd" not in kw and "size_fraction" not in kw:
        kw["size_usd"] = usd(1_000)
    return Action(action_id="a", kind=kind, symbol=symbol, **kw)


def code(action, book=None, marks=MARKS, limits=LIMITS):
    book = book or fresh()
    rejection = check_action(action, book, ASSETS.get(action.symbol), marks, limits)
    return rejection.code if rejection else None


def holding(*actions: Action) -> AccountBook:
    book = fresh()
    for a in actions:
        outcome = book.submit(a, ASSETS, MARKS, 1, LIMITS)
        assert outcome.rejection is None, outcome.rejection
        book = outcome.book
    return book


def test_a_well_formed_open_is_accepted_and_planned():
    assert code(act()) is None
    order = plan_order(
        act(size_fraction=D("0.5"), leverage=2), fresh(), ASSETS["BTC"], MARKS, LIMITS
    )
    assert order == Order(
        action_id="a", symbol="BTC", side="buy", size=D("0.05"), ref_px=D(100_000), leverage=2
    )


def test_hold_is_always_accepted_and_plans_nothing():
    halted = msgspec.structs.replace(fresh(), status="liquidated")
    assert plan_order(act("hold", symbol="NOPE"), halted, None, {}, LIMITS) is None


def test_asset_not_in_universe():
    assert code(act(symbol="DOGE")) == "asset_not_in_universe"


def test_asset_disabled():
    assert code(act(symbol="OFF")) == "asset_disabled"


@pytest.mark.parametrize(
    "action",
    [
        act(size_usd=usd(100), size_fraction=D("0.1")),
        Action(action_id="a", kind="open_long", symbol="BTC"),
        act(size_usd=0),
        act(size_usd=None, size_fraction=D("-0.1")),
        act(leverage=0),
        act(confidence=D("1.5")),
        act(symbol=""),
        act(stop_loss=D(100_001)),  # a long's stop above the price
        act(take_profit=D(99_000)),  # a long's target below the price
        act("open_short", stop_loss=D(99_000)),
        act("open_short", take_profit=D(0)),
    ],
)
def test_malformed_action(action):
    assert code(action) == "malformed_action"


def test_malformed_reduce():
    book = holding(act())
    assert code(act("reduce"), book) == "malformed_action"  # no size
    assert code(act("reduce", size_fraction=D("1.5")), book) == "malformed_action"


def test_low_confidence_gates_entries_only():
    limits = Limits(min_confidence=D("0.6"))
    assert code(act(confidence=D("0.59")), limits=limits) == "low_confidence"
    assert code(act(confidence=D("0.6")), limits=limits) is None
    assert code(act("close", confidence=D(0)), holding(act()), limits=limits) is None


def test_below_min_notional():
    assert code(act(size_usd=usd("9.99"))) == "below_min_notional"
    assert code(act(size_usd=usd(10))) is None
    assert code(act(size_usd=usd("11.9"), symbol="LOW")) is None  # 5 whole units at 2 USD
    assert code(act(size_usd=usd("9.9"), symbol="LOW")) == "below_min_notional"  # 4 units


def test_partial_reduce_below_min_notional_but_a_full_close_is_fine():
    book = holding(act(size_usd=usd(15)))
    assert code(act("reduce", size_fraction=D("0.5")), book) == "below_min_notional"
    assert code(act("reduce", size_fraction=D(1)), book) is None
    assert code(act("close"), book) is None


def test_leverage_above_cap():
    assert code(act(leverage=11)) == "leverage_above_cap"  # account cap 10
    assert code(act(leverage=10)) is None
    assert (
        code(act(symbol="LOW", leverage=4, size_usd=usd(100))) == "leverage_above_cap"
    )  # asset max 3


def test_asset_exposure_cap():
    assert code(act(size_usd=usd(30_001), leverage=10)) == "asset_exposure_cap"  # 3x equity
    assert code(act(size_usd=usd(30_000), leverage=10)) is None
    book = holding(act(size_usd=usd(20_000), leverage=10))
    assert code(act(size_usd=usd(10_100), leverage=10), book) == "asset_exposure_cap"


def test_gross_exposure_cap():
    book = holding(act(symbol="ETH", size_usd=usd(25_000), leverage=10))
    assert code(act(size_usd=usd(26_000), leverage=10), book) == "gross_exposure_cap"  # 51000 > 5x


def test_insufficient_margin():
    assert code(act(size_usd=usd(12_000), leverage=1)) == "insufficient_margin"
    assert code(act(size_usd=usd(9_990), leverage=1)) is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("halted", "account_halted"),
        ("paused", "account_paused"),
        ("liquidated", "account_liquidated"),
    ],
)
def test_account_status(status, expected):
    book = msgspec.structs.replace(fresh(), status=status)
    assert code(act(), book) == expected
    assert code(act("close"), book) == expected


def test_no_position():
    assert code(act("close")) == "no_position"
    assert code(act("reduce", size_fraction=D("0.5"))) == "no_position"


def test_no_price():
    assert code(act(), marks={}) == "no_price"
    assert code(act(), marks={"BTC": D(0)}) == "no_price"


def test_every_reason_code_is_reachable_and_explained():
    seen = set()
    for action, book, marks in [
        (act(symbol="DOGE"), None, MARKS),
        (act(symbol="OFF"), None, MARKS),
        (act(leverage=0), None, MARKS),
        (act(size_usd=usd(1)), None, MARKS),
        (act(leverage=99), None, MARKS),
        (act(size_usd=usd(40_000), leverage=10), None, MARKS),
        (
            act(size_usd=usd(26_000), leverage=10),
            holding(act(symbol="ETH", size_usd=usd(25_000), leverage=10)),
            MARKS,
        ),
        (act(size_usd=usd(20_000)), None, MARKS),
        (act(), msgspec.structs.replace(fresh(), status="halted", halt_reason="daily_loss"), MARKS),
        (act(), msgspec.structs.replace(fresh(), status="paused"), MARKS),
        (act(), msgspec.structs.replace(fresh(), status="liquidated"), MARKS),
        (act("close"), None, MARKS),
        (act(), None, {}),
    ]:
        book = book or fresh()
        rejection = check_action(action, book, ASSETS.get(action.symbol), marks, LIMITS)
        assert isinstance(rejection, Rejection) and rejection.message
        seen.add(rejection.code)
    seen.add(code(act(confidence=D("0.1")), limits=Limits(min_confidence=D("0.5"))))
    assert seen == set(get_args(RejectionCode))


def test_a_rejected_submit_changes_nothing():
    book = holding(act())
    outcome = book.submit(act(leverage=99), ASSETS, MARKS, 5, LIMITS)
    assert outcome.book is book
    assert outcome.rejection and outcome.rejection.code == "leverage_above_cap"
    assert (outcome.fills, outcome.ledger, outcome.status_changes, outcome.order) == (
        [],
        [],
        [],
        None,
    )


def test_halts_block_new_entries_after_flattening():
    book = holding(act(size_usd=usd(20_000), leverage=10))
    halted = book.mark(
        ASSETS, {**MARKS, "BTC": D(97_000)}, 2, LIMITS
    ).book  # about -620 USD, over 5% of the day start
    assert halted.status == "halted" and halted.halt_reason == "daily_loss"
    assert halted.positions == {}
    outcome = halted.submit(act(), ASSETS, MARKS, 3, LIMITS)
    assert outcome.rejection and outcome.rejection.code == "account_halted"
