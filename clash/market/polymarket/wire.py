"""Polymarket Gamma API wire types (`https://gamma-api.polymarket.com`).

Shapes follow the recorded fixtures (`shared/fixtures/real/polymarket/`) and FORMATS.md §4.
Gamma adds and drops fields over time, so unknown keys are ignored and nearly every field is
optional; the types of the fields we do declare are decoded strictly (no str→number coercion).

Quirks kept faithfully here and unpacked by the helpers below:
- `outcomes`, `outcomePrices`, `clobTokenIds`, `umaResolutionStatuses` are JSON text inside JSON.
- market `volume`/`liquidity` are decimal strings, event `volume`/`liquidity` are numbers.
- dates are ISO-8601, except some Postgres-style ones (`"2026-05-09 02:07:01+00"`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import msgspec

from clash.market.errors import DecodeError, SourceError

__all__ = [
    "SourceError",
    "DecodeError",
    "Tag",
    "Series",
    "FeeSchedule",
    "EventSummary",
    "Market",
    "Event",
    "decode_markets",
    "decode_market",
    "decode_events",
    "decode_event",
    "outcomes_of",
    "outcome_prices_of",
    "clob_token_ids_of",
    "iso_to_ms",
    "usd_to_micros",
]


class _Wire(msgspec.Struct, rename="camel", frozen=True):
    pass


class Tag(_Wire, frozen=True):
    id: str
    label: str | None = None
    slug: str | None = None
    force_show: bool | None = None
    force_hide: bool | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Series(_Wire, frozen=True):
    id: str
    ticker: str | None = None
    slug: str | None = None
    title: str | None = None
    series_type: str | None = None
    recurrence: str | None = None
    active: bool | None = None
    closed: bool | None = None
    archived: bool | None = None
    volume_24hr: float | None = msgspec.field(default=None, name="volume24hr")
    volume: float | None = None
    liquidity: float | None = None
    created_at: str | None = None
    updated_at: str | None = None


class FeeSchedule(_Wire, frozen=True):
    exponent: float | None = None
    rate: float | None = None
    rebate_rate: float | None = None
    taker_only: bool | None = None


class EventSummary(_Wire, frozen=True):
    """An event as nested in a market's `events[]` (no `markets`)."""

    id: str
    ticker: str | None = None
    slug: str | None = None
    title: str | None = None
    description: str | None = None
    resolution_source: str | None = None
    start_date: str | None = None
    creation_date: str | None = None
    end_date: str | None = None
    start_time: str | None = None
    closed_time: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    active: bool | None = None
    closed: bool | None = None
    archived: bool | None = None
    restricted: bool | None = None
    neg_risk: bool | None = None
    neg_risk_market_id: str | None = msgspec.field(default=None, name="negRiskMarketID")
    liquidity: float | None = None
    volume: float | None = None
    volume_24hr: float | None = msgspec.field(default=None, name="volume24hr")
    volume_1wk: float | None = msgspec.field(default=None, name="volume1wk")
    volume_1mo: float | None = msgspec.field(default=None, name="volume1mo")
    volume_1yr: float | None = msgspec.field(default=None, name="volume1yr")
    open_interest: float | None = None
    competitive: float | None = None
    comment_count: int | None = None
    game_id: int | None = None
    series_slug: str | None = None
    series: list[Series] = []
    tags: list[Tag] = []


class Market(_Wire, frozen=True):
    id: str
    question: str | None = None
    condition_id: str | None = None
    question_id: str | None = msgspec.field(default=None, name="questionID")
    slug: str | None = None
    description: str | None = None
    resolution_source: str | None = None
    image: str | None = None
    icon: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    start_date_iso: str | None = None
    end_date_iso: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    closed_time: str | None = None
    accepting_orders_timestamp: str | None = None
    event_start_time: str | None = None
    outcomes: str | None = None
    outcome_prices: str | None = None
    clob_token_ids: str | None = None
    uma_resolution_statuses: str | None = None
    volume: str | None = None
    liquidity: str | None = None
    volume_num: float | None = None
    liquidity_num: float | None = None
    volume_24hr: float | None = msgspec.field(default=None, name="volume24hr")
    volume_1wk: float | None = msgspec.field(default=None, name="volume1wk")
    volume_1mo: float | None = msgspec.field(default=None, name="volume1mo")
    volume_1yr: float | None = msgspec.field(default=None, name="volume1yr")
    volume_clob: float | None = None
    liquidity_clob: float | None = None
    best_bid: float | None = None
    best_ask: float | None = None
    last_trade_price: float | None = None
    spread: float | None = None
    one_day_price_change: float | None = None
    one_week_price_change: float | None = None
    one_month_price_change: float | None = None
    order_price_min_tick_size: float | None = None
    order_min_size: int | float | None = None
    active: bool | None = None
    closed: bool | None = None
    archived: bool | None = None
    restricted: bool | None = None
    accepting_orders: bool | None = None
    enable_order_book: bool | None = None
    neg_risk: bool | None = None
    neg_risk_market_id: str | None = msgspec.field(default=None, name="negRiskMarketID")
    group_item_title: str | None = None
    fee_type: str | None = None
    fee_schedule: FeeSchedule | None = None
    game_id: str | None = None
    sports_market_type: str | None = None
    events: list[EventSummary] = []


class Event(EventSummary, frozen=True):
    """A full event as returned by `/events`, with its `markets[]`."""

    markets: list[Market] = []


_markets = msgspec.json.Decoder(list[Market])
_market = msgspec.json.Decoder(Market)
_events = msgspec.json.Decoder(list[Event])
_event = msgspec.json.Decoder(Event)
_str_list = msgspec.json.Decoder(list[str])


def _decode(decoder: msgspec.json.Decoder, raw: bytes | str, what: str):
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as e:
        raise DecodeError(f"gamma {what}: {e}") from e


def decode_markets(raw: bytes | str) -> list[Market]:
    return _decode(_markets, raw, "markets")


def decode_market(raw: bytes | str) -> Market:
    return _decode(_market, raw, "market")


def decode_events(raw: bytes | str) -> list[Event]:
    return _decode(_events, raw, "events")


def decode_event(raw: bytes | str) -> Event:
    return _decode(_event, raw, "event")


def _inner_list(text: str | None, what: str) -> tuple[str, ...]:
    if text is None or text == "":
        return ()
    return tuple(_decode(_str_list, text, what))


def outcomes_of(m: Market) -> tuple[str, ...]:
    return _inner_list(m.outcomes, f"market {m.id} outcomes")


def outcome_prices_of(m: Market) -> tuple[Decimal, ...]:
    """Exact outcome prices; Gamma sends them as decimal strings inside a JSON string."""
    out = []
    for s in _inner_list(m.outcome_prices, f"market {m.id} outcomePrices"):
        try:
            out.append(Decimal(s))
        except InvalidOperation as e:
            raise DecodeError(f"gamma market {m.id}: bad outcome price {s!r}") from e
    return tuple(out)


def clob_token_ids_of(m: Market) -> tuple[str, ...]:
    return _inner_list(m.clob_token_ids, f"market {m.id} clobTokenIds")


def iso_to_ms(text: str | None) -> int | None:
    """ISO-8601 or Postgres-style timestamp → epoch ms (UTC when no offset is given)."""
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as e:
        raise DecodeError(f"gamma: bad timestamp {text!r}") from e
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.replace(microsecond=0).timestamp()) * 1000 + dt.microsecond // 1000


def usd_to_micros(value: str | float | int | None) -> int:
    """USD amount (decimal string or JSON number) → integer micro-dollars, exactly."""
    if value is None:
        return 0
    try:
        d = Decimal(value) if isinstance(value, str) else Decimal(repr(value))
        return int((d * 1_000_000).to_integral_value())
    except (InvalidOperation, ValueError, OverflowError) as e:
        raise DecodeError(f"bad USD amount {value!r}") from e
