from decimal import Decimal

import msgspec
import pytest

from clash.prop.book import open_account
from clash.prop.fills import AssetSpec, Position
from clash.prop.gates import Action, Limits
from clash.prop.money import usd
from clash.trading.legal import (
    ACTION_ORDER,
    exposure_caps,
    legal_actions,
    legal_for,
    only_hold,
    ordered,
)

T0 = 1_790_431_200_000
BTC = AssetSpec(symbol="BTC", sz_decimals=5, max_leverage=40)
ETH = AssetSpec(symbol="ETH", sz_decimals=4, max_leverage=25)
MARKS = {"BTC": Decimal(100_000), "ETH": Decimal(4_000)}


def position(symbol: str = "BTC") -> Position:
    return Position(
        symbol=symbol,
        side="long",
        size=Decimal("0.1"),
        entry_px=Decimal(100_000),
        leverage=5,
        margin_micro=usd(2_000),
        mark_px=Decimal(100_000),
        opened_at_ms=T0,
        updated_at_ms=T0,
    )


def test_flat_asset_can_enter_either_way_or_hold() -> None:
    assert legal_actions(None, False, False, "active") == {"open_long", "open_short", "hold"}


def test_spot_cannot_short() -> None:
    assert legal_actions(None, False, False, "active", can_short=False) == {"open_long", "hold"}


@pytest.mark.parametrize("caps", [(False, False), (True, False), (False, True), (True, True)])
def test_open_position_is_held_reduced_or_closed_never_added_or_flipped(
    caps: tuple[bool, bool],
) -> None:
    assert legal_actions(position(), *caps, "active") == {"hold", "reduce", "close"}


@pytest.mark.parametrize("caps", [(True, False), (False, True)])
def test_at_an_exposure_cap_no_new_entry(caps: tuple[bool, bool]) -> None:
    assert legal_actions(None, *caps, "active") == {"hold"}


@pytest.mark.parametrize("status", ["paused", "halted", "liquidated"])
@pytest.mark.parametrize("pos", [None, position()])
def test_an_inactive_account_only_holds(status: str, pos: Position | None) -> None:
    assert legal_actions(pos, False, False, status) == {"hold"}


def test_only_hold_means_no_engine_call() -> None:
    assert only_hold(frozenset({"hold"}))
    assert only_hold(frozenset())
    assert not only_hold(frozenset({"hold", "close", "reduce"}))


def test_canonical_order() -> None:
    assert ordered({"hold", "close", "open_short"}) == ["open_short", "close", "hold"]
    assert ordered(ACTION_ORDER) == list(ACTION_ORDER)


def _book_with_btc(notional_usd: int):
    book = open_account(T0).book
    action = Action(
        action_id="a1", kind="open_long", symbol="BTC", size_usd=usd(notional_usd), leverage=10
    )
    outcome = book.submit(action, {"BTC": BTC, "ETH": ETH}, MARKS, T0, Limits())
    assert outcome.rejection is None
    return outcome.book


def test_caps_read_off_the_book() -> None:
    book = _book_with_btc(25_000)
    assert exposure_caps(book, "ETH", MARKS, Limits()) == (False, False)
    assert legal_for(book, "ETH", MARKS, Limits()) == {"open_long", "open_short", "hold"}
    assert legal_for(book, "BTC", MARKS, Limits()) == {"hold", "reduce", "close"}

    tight = msgspec.structs.replace(Limits(), max_gross_exposure=Decimal("2.5"))
    assert exposure_caps(book, "ETH", MARKS, tight) == (False, True)
    assert legal_for(book, "ETH", MARKS, tight) == {"hold"}
    assert legal_for(book, "BTC", MARKS, tight) == {"hold", "reduce", "close"}


def test_asset_cap_counts_only_that_asset() -> None:
    book = _book_with_btc(25_000)
    tight = msgspec.structs.replace(Limits(), max_asset_exposure=Decimal("2.5"))
    at_asset, at_gross = exposure_caps(book, "BTC", MARKS, tight)
    assert at_asset and not at_gross
    assert exposure_caps(book, "ETH", MARKS, tight) == (False, False)
