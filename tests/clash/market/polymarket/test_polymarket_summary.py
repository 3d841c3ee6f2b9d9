"""Pure selection over hand-made markets with a fixed clock, plus summaries of real fixtures."""

from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from clash.market.polymarket import PolymarketTarget
from clash.market.polymarket.gamma import ms_to_iso
from clash.market.polymarket.summary import (
    MarketSummary,
    assets_of,
    discover,
    immediate_market,
    is_open,
    later_market,
    markets_for_asset,
    recently_closed,
    resolved_outcome,
    summarize,
    target_markets,
)
from clash.market.polymarket.wire import (
    EventSummary,
    Market,
    Series,
    Tag,
    decode_events,
    decode_market,
)

NOW = 1_773_307_350_000  # 2026-03-12T09:22:30Z
MIN = 60_000


@pytest.fixture
def pm_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "real" / "polymarket"


def mk(
    mid: str,
    end: int,
    *,
    window: int | None = None,
    closed: bool = False,
    active: bool = True,
    archived: bool = False,
    closed_time: str | None = None,
    question: str = "Will it happen?",
    slug: str | None = None,
    events: list[EventSummary] | None = None,
) -> Market:
    return Market(
        id=mid,
        question=question,
        slug=slug or f"m-{mid}",
        end_date=ms_to_iso(end),
        start_date=ms_to_iso(NOW - 24 * 60 * MIN),
        event_start_time=ms_to_iso(window) if window is not None else None,
        active=active,
        closed=closed,
        archived=archived,
        closed_time=closed_time,
        outcomes='["Yes", "No"]',
        outcome_prices='["1", "0"]' if closed else '["0.6", "0.4"]',
        events=events or [],
    )


BOOK = [
    mk("a", NOW + 2 * MIN + 30_000, window=NOW - 2 * MIN - 30_000),  # live 5m window, ends 09:25
    mk("b", NOW + 7 * MIN + 30_000, window=NOW + 2 * MIN + 30_000),  # next window: upcoming
    mk("c", NOW + 2 * MIN + 30_000, window=NOW - 12 * MIN - 30_000),  # same end as "a"
    mk("d", NOW + 30 * 24 * 60 * MIN),  # long-dated, no window → live
    mk("e", NOW - 2 * MIN, closed=True, closed_time="2026-03-12 09:21:00+00"),
    mk("f", NOW - 30 * MIN, closed=True),  # closed, no closedTime → end date
    mk("g", NOW - 1 * MIN),  # ended, not yet resolved
    mk("h", NOW - 3 * 24 * 60 * MIN, closed=True),  # closed too long ago
    mk("i", NOW + 5 * MIN, active=False),
    mk("j", NOW + 5 * MIN, archived=True),
    mk("k", NOW + 1 * MIN, closed=True),  # closed early (resolved before its end date)
]


def ids(markets) -> list[str]:
    return [m.id for m in markets]


def test_is_open():
    assert [m.id for m in BOOK if is_open(m, NOW)] == ["a", "b", "c", "d"]
    assert not is_open(BOOK[0], NOW + 3 * MIN)


def test_discover_splits_live_and_upcoming_soonest_first():
    d = discover(BOOK, NOW)
    assert ids(d.live) == ["a", "c", "d"]
    assert ids(d.upcoming) == ["b"]


def test_immediate_and_later():
    assert immediate_market(BOOK, NOW).id == "a"  # ties on end broken by id
    assert later_market(BOOK, NOW).id == "b"  # next *distinct* resolution time
    assert immediate_market(BOOK, NOW + 3 * MIN).id == "b"
    assert later_market(BOOK, NOW + 3 * MIN).id == "d"
    assert later_market([BOOK[0]], NOW) is None
    assert immediate_market([], NOW) is None and later_market([], NOW) is None


def test_recently_closed_newest_first_within_window():
    assert ids(recently_closed(BOOK, NOW)) == ["k", "g", "e", "f"]
    assert ids(recently_closed(BOOK, NOW, within_ms=10 * MIN)) == ["k", "g", "e"]
    assert ids(recently_closed(BOOK, NOW, limit=2)) == ["k", "g"]
    assert "h" in ids(recently_closed(BOOK, NOW, within_ms=4 * 24 * 60 * MIN))


def test_summary_row_of_real_market(pm_dir):
    m = decode_market(
        (pm_dir / "gamma_market_btc-updown-5m-1773307200_2026-03-11.json").read_bytes()
    )
    assert summarize(m) == MarketSummary(
        market_id="1557558",
        slug="btc-updown-5m-1773307200",
        question="Bitcoin Up or Down - March 12, 5:20AM-5:25AM ET",
        outcomes=("Up", "Down"),
        prices=(Decimal("0.505"), Decimal("0.495")),
        volume_usd_micros=9_999_997,
        liquidity_usd_micros=20_328_374_700,
        end_ms=1_773_307_500_000,
        closed=False,
        resolved_outcome=None,
        event_slug="btc-updown-5m-1773307200",
    )
    # the fixture was recorded at ~15:14 on the 11th, before the window opened
    assert is_open(m, 1_773_242_086_000) and immediate_market([m], 1_773_242_086_000) is m
    assert ids(discover([m], 1_773_242_086_000).upcoming) == ["1557558"]


def test_summary_encodes_to_json_with_exact_prices(pm_dir):
    m = decode_market(
        (pm_dir / "gamma_market_sports_moneyline_cs2-faze-ill_2026-04-06.json").read_bytes()
    )
    s = summarize(m)
    assert s.resolved_outcome == "FaZe" and s.closed
    raw = msgspec.json.decode(msgspec.json.encode(s))
    assert raw["prices"] == ["1", "0"] and raw["volume_usd_micros"] == 26_458_188_065


def test_resolved_outcome_needs_a_single_winner():
    assert resolved_outcome(BOOK[4]) == "Yes"
    assert resolved_outcome(BOOK[0]) is None
    fifty = msgspec.structs.replace(BOOK[4], outcome_prices='["0.5", "0.5"]')
    assert resolved_outcome(fifty) is None


def test_targets_by_slug_and_id(pm_dir):
    (event,) = decode_events(
        (pm_dir / "gamma_events_democratic-presidential-nominee-2028_2026-03-11.json").read_bytes()
    )
    summary = EventSummary(id=event.id, slug=event.slug)
    markets = [msgspec.structs.replace(m, events=[summary]) for m in event.markets] + BOOK
    by_event_slug = target_markets(
        PolymarketTarget("event", slug="democratic-presidential-nominee-2028"), markets
    )
    assert ids(by_event_slug) == ["559657", "559659"]
    assert ids(target_markets(PolymarketTarget("event", id="30829"), markets)) == [
        "559657",
        "559659",
    ]
    assert ids(target_markets(PolymarketTarget("market", id="559659"), markets)) == ["559659"]
    assert ids(target_markets(PolymarketTarget("market", slug="m-b"), markets)) == ["b"]
    assert target_markets(PolymarketTarget("market", slug="nope"), markets) == []
    with pytest.raises(ValueError):
        PolymarketTarget("market")
    with pytest.raises(ValueError):
        PolymarketTarget("market", slug="x", id="1")


def test_asset_matching_whole_words_from_question_slug_and_tags(pm_dir):
    btc = decode_market(
        (pm_dir / "gamma_market_btc-updown-5m-1773307200_2026-03-11.json").read_bytes()
    )
    assert assets_of(btc) == {"BTC"}
    eth = mk("x", NOW, question="Will ETH reach $5,000 in March?")
    sol = mk("y", NOW, question="Up or down?", slug="sol-updown-1h-1")
    hype = mk(
        "z",
        NOW,
        question="Who wins?",
        events=[EventSummary(id="1", tags=[Tag(id="9", label="Hyperliquid")])],
    )
    series = mk(
        "s",
        NOW,
        question="?",
        events=[EventSummary(id="2", series=[Series(id="3", slug="btc-up-or-down-5m")])],
    )
    noise = mk("n", NOW, question="Will ethics reform pass? Solar subsidies? Hyped album?")
    assert assets_of(eth) == {"ETH"} and assets_of(sol) == {"SOL"} and assets_of(hype) == {"HYPE"}
    assert assets_of(series) == {"BTC"}
    assert assets_of(noise) == set()
    both = mk("w", NOW, question="Will Bitcoin outperform Ethereum in 2026?")
    assert assets_of(both) == {"BTC", "ETH"}
    assert ids(markets_for_asset([btc, eth, sol, hype, noise, both], "BTC")) == ["1557558", "w"]
    assert assets_of(eth, {"ETH": ("ether",)}) == set()


def test_politics_event_links_to_no_asset(pm_dir):
    (event,) = decode_events(
        (pm_dir / "gamma_events_democratic-presidential-nominee-2028_2026-03-11.json").read_bytes()
    )
    assert all(assets_of(m) == set() for m in event.markets)
