"""Pure selection and summarising over decoded Gamma markets; every time input is `now_ms`.

- discovery: open markets split into live (window started) and upcoming;
- the *immediate* market (soonest to resolve, still open) and the *later* one (next distinct
  resolution time), which is how the context layer reads "what resolves next";
- recently closed markets, newest first;
- compact `MarketSummary` rows for market memory and prompts;
- explicit targets from a data-stream block, and the legacy asset-linked keyword matching.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

import msgspec

from .gamma import PolymarketTarget
from .wire import Market, iso_to_ms, outcome_prices_of, outcomes_of, usd_to_micros

__all__ = [
    "MarketSummary",
    "Discovery",
    "end_ms",
    "window_start_ms",
    "closed_at_ms",
    "is_open",
    "discover",
    "immediate_market",
    "later_market",
    "recently_closed",
    "summarize",
    "resolved_outcome",
    "target_markets",
    "ASSET_KEYWORDS",
    "assets_of",
    "markets_for_asset",
]

DAY_MS = 86_400_000


class MarketSummary(msgspec.Struct, frozen=True):
    """One compact row per market; money in micro-USD, time in epoch ms."""

    market_id: str
    slug: str
    question: str
    outcomes: tuple[str, ...]
    prices: tuple[Decimal, ...]
    volume_usd_micros: int
    liquidity_usd_micros: int
    end_ms: int | None
    closed: bool
    resolved_outcome: str | None = None
    event_slug: str | None = None


class Discovery(msgspec.Struct, frozen=True):
    live: tuple[Market, ...]
    upcoming: tuple[Market, ...]


def end_ms(m: Market) -> int | None:
    return iso_to_ms(m.end_date) if m.end_date else iso_to_ms(m.end_date_iso)


def window_start_ms(m: Market) -> int | None:
    """When the market's question window opens: for recurring up/down markets that is
    `eventStartTime`, not `startDate` (the listing time)."""
    if m.event_start_time:
        return iso_to_ms(m.event_start_time)
    for e in m.events:
        if e.start_time:
            return iso_to_ms(e.start_time)
    return iso_to_ms(m.start_date)


def closed_at_ms(m: Market) -> int | None:
    return iso_to_ms(m.closed_time) if m.closed_time else end_ms(m)


def is_open(m: Market, now_ms: int) -> bool:
    """Tradable at `now_ms`: active, not closed/archived, and its end is still ahead."""
    end = end_ms(m)
    return bool(m.active) and not m.closed and not m.archived and end is not None and end > now_ms


def _by_end(markets: Iterable[Market]) -> list[tuple[int, str, Market]]:
    rows = []
    for m in markets:
        end = end_ms(m)
        if end is not None:
            rows.append((end, m.id, m))
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


def discover(markets: Iterable[Market], now_ms: int) -> Discovery:
    """Open markets, soonest end first, split on whether their window has started."""
    live: list[Market] = []
    upcoming: list[Market] = []
    for _, _, m in _by_end(m for m in markets if is_open(m, now_ms)):
        start = window_start_ms(m)
        (upcoming if start is not None and start > now_ms else live).append(m)
    return Discovery(live=tuple(live), upcoming=tuple(upcoming))


def immediate_market(markets: Iterable[Market], now_ms: int) -> Market | None:
    rows = _by_end(m for m in markets if is_open(m, now_ms))
    return rows[0][2] if rows else None


def later_market(markets: Iterable[Market], now_ms: int) -> Market | None:
    """First open market resolving strictly after the immediate one."""
    rows = _by_end(m for m in markets if is_open(m, now_ms))
    if not rows:
        return None
    first_end = rows[0][0]
    return next((m for end, _, m in rows if end > first_end), None)


def recently_closed(
    markets: Iterable[Market], now_ms: int, *, within_ms: int = DAY_MS, limit: int | None = None
) -> list[Market]:
    """Markets that closed (flag set, or end passed) in `(now - within, now]`, newest first."""
    rows: list[tuple[int, str, Market]] = []
    for m in markets:
        at = closed_at_ms(m)
        end = end_ms(m)
        ended = bool(m.closed) or (end is not None and end <= now_ms)
        if m.closed and at is not None and at > now_ms:
            at = now_ms  # resolved early and Gamma gave no closedTime: it closed by now
        if ended and at is not None and now_ms - within_ms < at <= now_ms:
            rows.append((at, m.id, m))
    rows.sort(key=lambda r: (-r[0], r[1]))
    out = [m for _, _, m in rows]
    return out if limit is None else out[:limit]


def resolved_outcome(m: Market) -> str | None:
    """The winning outcome of a closed market whose prices have settled to 1/0."""
    if not m.closed:
        return None
    winners = [o for o, p in zip(outcomes_of(m), outcome_prices_of(m)) if p == 1]
    return winners[0] if len(winners) == 1 else None


def summarize(m: Market) -> MarketSummary:
    volume = m.volume if m.volume is not None else m.volume_num
    liquidity = m.liquidity if m.liquidity is not None else m.liquidity_num
    return MarketSummary(
        market_id=m.id,
        slug=m.slug or "",
        question=m.question or "",
        outcomes=outcomes_of(m),
        prices=outcome_prices_of(m),
        volume_usd_micros=usd_to_micros(volume),
        liquidity_usd_micros=usd_to_micros(liquidity),
        end_ms=end_ms(m),
        closed=bool(m.closed),
        resolved_outcome=resolved_outcome(m),
        event_slug=m.events[0].slug if m.events else None,
    )


def target_markets(target: PolymarketTarget, markets: Iterable[Market]) -> list[Market]:
    """The markets an explicit block target names, picked from already-fetched markets."""
    if target.kind == "market":
        return [
            m
            for m in markets
            if (target.id is not None and m.id == target.id)
            or (target.slug is not None and m.slug == target.slug)
        ]
    return [
        m
        for m in markets
        if any(
            (target.id is not None and e.id == target.id)
            or (target.slug is not None and e.slug == target.slug)
            for e in m.events
        )
    ]


# Legacy asset-linked path: Hyperliquid perp symbol → words that name it in Gamma questions,
# slugs (e.g. "btc-updown-5m-…"), series slugs and tag slugs/labels. Whole words only.
ASSET_KEYWORDS: dict[str, tuple[str, ...]] = {
    "BTC": ("bitcoin", "btc"),
    "ETH": ("ethereum", "eth", "ether"),
    "SOL": ("solana", "sol"),
    "HYPE": ("hyperliquid", "hype"),
    "XRP": ("xrp", "ripple"),
    "DOGE": ("dogecoin", "doge"),
    "BNB": ("bnb", "binance coin"),
}

_WORD = re.compile(r"[a-z0-9]+")


def _words(texts: Iterable[str | None]) -> str:
    return " " + " ".join(" ".join(_WORD.findall(t.lower())) for t in texts if t) + " "


def _texts(m: Market) -> list[str | None]:
    texts: list[str | None] = [m.question, m.slug, m.group_item_title]
    for e in m.events:
        texts += [e.title, e.slug, e.series_slug]
        texts += [s.slug for s in e.series]
        texts += [t.label for t in e.tags] + [t.slug for t in e.tags]
    return texts


def assets_of(m: Market, keywords: dict[str, tuple[str, ...]] = ASSET_KEYWORDS) -> set[str]:
    words = _words(_texts(m))
    return {
        symbol
        for symbol, kws in keywords.items()
        if any(f" {' '.join(_WORD.findall(kw))} " in words for kw in kws)
    }


def markets_for_asset(
    markets: Sequence[Market], symbol: str, keywords: dict[str, tuple[str, ...]] = ASSET_KEYWORDS
) -> list[Market]:
    return [m for m in markets if symbol in assets_of(m, keywords)]
