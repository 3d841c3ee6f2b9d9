"""Gamma wire types against the recorded fixtures: strict decode, no silently-lost fields."""

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from clash.market.polymarket.wire import (
    DecodeError,
    Event,
    Market,
    SourceError,
    clob_token_ids_of,
    decode_events,
    decode_market,
    decode_markets,
    iso_to_ms,
    outcome_prices_of,
    outcomes_of,
    usd_to_micros,
)

BTC_5M = "gamma_market_btc-updown-5m-1773307200_2026-03-11.json"
SPORTS = "gamma_market_sports_moneyline_cs2-faze-ill_2026-04-06.json"
EVENTS = "gamma_events_democratic-presidential-nominee-2028_2026-03-11.json"


@pytest.fixture
def pm_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "real" / "polymarket"


@pytest.fixture
def raw(pm_dir: Path) -> Callable[[str], bytes]:
    return lambda name: (pm_dir / name).read_bytes()


def _assert_covered(obj: object, raw: object) -> None:
    """Every declared field present (non-null) in the JSON decoded to a non-None value:
    catches a misspelt wire name, which would otherwise just read as 'absent'."""
    if isinstance(obj, list):
        assert isinstance(raw, list) and len(obj) == len(raw)
        for o, r in zip(obj, raw):
            _assert_covered(o, r)
        return
    if not isinstance(obj, msgspec.Struct):
        return
    assert isinstance(raw, dict)
    for f in msgspec.structs.fields(obj):
        if raw.get(f.encode_name) is not None:
            value = getattr(obj, f.name)
            assert value is not None, f"{type(obj).__name__}.{f.name} ({f.encode_name}) lost"
            _assert_covered(value, raw[f.encode_name])


def test_every_polymarket_fixture_decodes_strictly(pm_dir, raw):
    names = sorted(p.name for p in pm_dir.glob("*.json"))
    assert names == sorted([BTC_5M, SPORTS, EVENTS])
    for name in (BTC_5M, SPORTS):
        m = decode_market(raw(name))
        _assert_covered(m, json.loads(raw(name)))
        assert decode_markets(b"[" + raw(name) + b"]")[0] == m
    events = decode_events(raw(EVENTS))
    _assert_covered(events, json.loads(raw(EVENTS)))


def test_btc_5m_market_values(raw):
    m = decode_market(raw(BTC_5M))
    assert m.id == "1557558" and m.slug == "btc-updown-5m-1773307200"
    assert outcomes_of(m) == ("Up", "Down")
    assert outcome_prices_of(m) == (Decimal("0.505"), Decimal("0.495"))
    assert len(clob_token_ids_of(m)) == 2 and all(t.isdigit() for t in clob_token_ids_of(m))
    assert m.volume == "9.999997" and m.volume_num == pytest.approx(9.999997)
    assert m.volume_24hr == pytest.approx(9.999997)
    assert m.order_min_size == 5 and isinstance(m.order_min_size, int)
    assert iso_to_ms(m.end_date) == 1_773_307_500_000
    assert iso_to_ms(m.event_start_time) == 1_773_307_200_000
    series = m.events[0].series[0]
    assert series.recurrence == "5m" and series.volume_24hr == pytest.approx(42805542.367599964)
    assert m.fee_type == "crypto_fees"


def test_sports_market_quirks(raw):
    m = decode_market(raw(SPORTS))
    assert m.closed is True and outcome_prices_of(m) == (Decimal(1), Decimal(0))
    assert m.game_id == "1427074" and m.events[0].game_id == 1427074  # str in market, int in event
    assert m.fee_schedule is not None and m.fee_schedule.taker_only is True
    assert iso_to_ms(m.closed_time) == 1_775_417_853_000  # "2026-04-05 19:37:33+00"


def test_event_numbers_are_numbers_market_numbers_are_strings(raw):
    (event,) = decode_events(raw(EVENTS))
    assert isinstance(event, Event) and len(event.markets) == 2 and len(event.tags) == 7
    assert event.volume == pytest.approx(799823812.487094)
    assert event.markets[0].liquidity == "400500.66675"
    assert event.markets[1].fee_type is None
    assert (
        event.neg_risk_market_id is not None
        and event.markets[0].neg_risk_market_id == event.neg_risk_market_id
    )


def test_truncated_payload_is_decode_error(raw):
    body = raw(BTC_5M)
    with pytest.raises(DecodeError):
        decode_market(body[: len(body) // 2])
    assert issubclass(DecodeError, SourceError)


def test_strict_types_no_coercion(raw):
    body = json.loads(raw(BTC_5M))
    body["volume"] = 9.99  # markets carry volume as a string
    with pytest.raises(DecodeError):
        decode_market(json.dumps(body))
    body = json.loads(raw(BTC_5M))
    body["closed"] = "false"
    with pytest.raises(DecodeError):
        decode_market(json.dumps(body))


def test_unknown_fields_ignored_and_optional_fields_absent():
    m = decode_market(b'{"id": "1", "brandNewField": {"x": 1}}')
    assert m == Market(id="1")
    assert outcomes_of(m) == () and outcome_prices_of(m) == ()


def test_inner_json_errors_are_decode_errors():
    m = Market(id="1", outcomes='["Yes", "No"', outcome_prices='["0.5", "abc"]')
    with pytest.raises(DecodeError):
        outcomes_of(m)
    with pytest.raises(DecodeError):
        outcome_prices_of(m)
    with pytest.raises(DecodeError):
        iso_to_ms("next tuesday")


def test_usd_to_micros_is_exact():
    assert usd_to_micros("20328.3747") == 20_328_374_700
    assert usd_to_micros(52875523609.47606) == 52_875_523_609_476_060
    assert usd_to_micros(None) == 0 and usd_to_micros(0) == 0
