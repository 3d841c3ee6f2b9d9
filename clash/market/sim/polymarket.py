"""Polymarket Gamma simulator: the same paths and JSON shapes as `gamma-api.polymarket.com`.

A handful of crypto markets, all a pure function of `(seed, now_ms)`:
- recurring "Up or Down" windows (BTC 5m, ETH 15m, SOL 1h) whose windows roll forward with
  the clock: a few just-closed (resolved 1/0), the live one, and two upcoming;
- long-dated price markets ("Will Ethereum reach $X in <month>?", "Will Bitcoin reach $X by
  December 31?", "Will Hyperliquid (HYPE) be above $X on <Friday>?") grouped into events.

Bodies are built as plain dicts in Gamma's own key layout (JSON-in-JSON `outcomes`, string
`volume`/`liquidity`, numeric event totals), not from our wire types, so decoding them in the
tests checks the client against the real format rather than against itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

__all__ = ["routes_for"]

_IMG = "https://polymarket-upload.s3.us-east-2.amazonaws.com/{}+fullsize.png"

_TAGS = {
    "crypto": {"id": "21", "label": "Crypto", "slug": "crypto"},
    "crypto-prices": {"id": "1312", "label": "Crypto Prices", "slug": "crypto-prices"},
    "up-or-down": {"id": "102127", "label": "Up or Down", "slug": "up-or-down"},
    "bitcoin": {"id": "235", "label": "Bitcoin", "slug": "bitcoin"},
    "ethereum": {"id": "39", "label": "Ethereum", "slug": "ethereum"},
    "solana": {"id": "818", "label": "Solana", "slug": "solana"},
    "hyperliquid": {"id": "102452", "label": "Hyperliquid", "slug": "hyperliquid"},
}

# (coin name, ticker, window minutes, slug stem, series slug, series id, asset tag)
_RECURRING = (
    ("Bitcoin", "BTC", 5, "btc-updown-5m", "btc-up-or-down-5m", "10684", "bitcoin"),
    ("Ethereum", "ETH", 15, "eth-updown-15m", "eth-up-or-down-15m", "10685", "ethereum"),
    ("Solana", "SOL", 60, "sol-updown-1h", "sol-up-or-down-hourly", "10686", "solana"),
)
_PAST_WINDOWS = 3
_NEXT_WINDOWS = 2
_RESOLVE_DELAY_MS = 45_000  # an ended window stays unresolved (closed=false) this long


def _h(seed: int, *parts: object) -> bytes:
    return hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=32).digest()


def _u(seed: int, *parts: object) -> float:
    return int.from_bytes(_h(seed, *parts)[:8], "big") / 2**64


def _num_id(seed: int, *parts: object) -> str:
    return str(1_000_000 + int.from_bytes(_h(seed, "id", *parts)[:8], "big") % 9_000_000)


def _hex(seed: int, *parts: object) -> str:
    return "0x" + _h(seed, *parts).hex()


def _iso(ms: int, *, micros: bool = False) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micros else "%Y-%m-%dT%H:%M:%SZ")


def _pg(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S+00")


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%d")


def _dec(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _usd(micros: int) -> str:
    return _dec(Decimal(micros) / 1_000_000) if micros else "0"


class _Spec(msgspec.Struct, frozen=True):
    """One generated market before rendering."""

    slug: str
    question: str
    description: str
    outcomes: tuple[str, str]
    created_ms: int
    window_start_ms: int
    end_ms: int
    event_key: str
    asset_tag: str
    image: str
    tick: float


class _EventSpec(msgspec.Struct, frozen=True):
    key: str
    title: str
    description: str
    start_ms: int
    end_ms: int
    tags: tuple[str, ...]
    series: tuple[str, str, str, str] | None = None  # id, slug, title, recurrence


def _fmt_window(start_ms: int, end_ms: int) -> str:
    s = datetime.fromtimestamp(start_ms // 1000, tz=UTC)
    e = datetime.fromtimestamp(end_ms // 1000, tz=UTC)
    return f"{s.strftime('%B')} {s.day}, {s.strftime('%H:%M')}-{e.strftime('%H:%M')} UTC"


def _recurring(seed: int, now: int) -> tuple[list[_Spec], list[_EventSpec]]:
    specs: list[_Spec] = []
    events: list[_EventSpec] = []
    for name, ticker, minutes, stem, series_slug, series_id, tag in _RECURRING:
        length = minutes * 60_000
        k0 = now // length
        for k in range(k0 - _PAST_WINDOWS, k0 + _NEXT_WINDOWS + 1):
            start, end = k * length, (k + 1) * length
            slug = f"{stem}-{start // 1000}"
            title = f"{name} Up or Down - {_fmt_window(start, end)}"
            desc = (
                f'This market will resolve to "Up" if the {name} price at the end of the time range '
                f"specified in the title is greater than or equal to the price at the beginning of "
                f'that range. Otherwise, it will resolve to "Down".\nThe resolution source for this '
                f"market is information from Chainlink, specifically the {ticker}/USD data stream."
            )
            listed = start - 24 * 3_600_000
            specs.append(
                _Spec(
                    slug,
                    title,
                    desc,
                    ("Up", "Down"),
                    listed,
                    start,
                    end,
                    slug,
                    tag,
                    _IMG.format(ticker),
                    0.01,
                )
            )
            events.append(
                _EventSpec(
                    slug,
                    title,
                    desc,
                    listed,
                    end,
                    ("crypto", "crypto-prices", "up-or-down", tag),
                    (
                        series_id,
                        series_slug,
                        f"{ticker} Up or Down {minutes}m"
                        if minutes < 60
                        else f"{ticker} Up or Down Hourly",
                        f"{minutes}m" if minutes < 60 else "hourly",
                    ),
                )
            )
    return specs, events


def _long_dated(seed: int, now: int) -> tuple[list[_Spec], list[_EventSpec]]:
    dt = datetime.fromtimestamp(now // 1000, tz=UTC)
    month0 = dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month1 = (month0 + timedelta(days=32)).replace(day=1)
    year1 = month0.replace(year=month0.year + 1, month=1)
    day0 = dt.replace(hour=0, minute=0, second=0, microsecond=0)
    friday = day0 + timedelta(days=(4 - day0.weekday()) % 7)
    friday_close = friday.replace(hour=16)
    if friday_close <= dt:
        friday_close += timedelta(days=7)

    ms = lambda d: int(d.timestamp()) * 1000  # noqa: E731
    specs: list[_Spec] = []
    events: list[_EventSpec] = []

    month_name = month0.strftime("%B").lower()
    eth_key = f"what-price-will-ethereum-hit-in-{month_name}-{month0.year}"
    eth_base = 3000 + 250 * int(_u(seed, "eth-base") * 8)
    events.append(
        _EventSpec(
            eth_key,
            f"What price will Ethereum hit in {month0.strftime('%B')}?",
            "Markets on the highest Ethereum (ETH) price during the month, per Binance ETH/USDT 1m highs.",
            ms(month0),
            ms(month1),
            ("crypto", "crypto-prices", "ethereum"),
        )
    )
    for step in (1, 2):
        strike = eth_base + 500 * step
        slug = f"will-ethereum-reach-{strike}-in-{month_name}-{month0.year}"
        specs.append(
            _Spec(
                slug,
                f"Will Ethereum reach ${strike:,} in {month0.strftime('%B')}?",
                f'Resolves "Yes" if any Binance ETH/USDT 1-minute candle high in {month0.strftime("%B")} '
                f"is at or above ${strike:,}.",
                ("Yes", "No"),
                ms(month0),
                ms(month0),
                ms(month1),
                eth_key,
                "ethereum",
                _IMG.format("ETH"),
                0.001,
            )
        )

    btc_key = f"bitcoin-price-end-of-{month0.year}"
    btc_strike = 100_000 + 10_000 * int(_u(seed, "btc-strike") * 6)
    events.append(
        _EventSpec(
            btc_key,
            f"Bitcoin above ___ on December 31, {month0.year}?",
            "Markets on the Bitcoin (BTC) price at the end of the year.",
            ms(month0.replace(month=1)),
            ms(year1),
            ("crypto", "crypto-prices", "bitcoin"),
        )
    )
    specs.append(
        _Spec(
            f"will-bitcoin-reach-{btc_strike // 1000}k-by-december-31-{month0.year}",
            f"Will Bitcoin reach ${btc_strike:,} by December 31?",
            f'Resolves "Yes" if BTC/USD trades at or above ${btc_strike:,} before the end of the year.',
            ("Yes", "No"),
            ms(month0.replace(month=1)),
            ms(month0.replace(month=1)),
            ms(year1),
            btc_key,
            "bitcoin",
            _IMG.format("BTC"),
            0.001,
        )
    )

    hype_strike = 20 + 5 * int(_u(seed, "hype-strike") * 6)
    fri = friday_close.strftime("%B ") + str(friday_close.day)
    hype_key = f"hyperliquid-above-on-{friday_close.strftime('%B').lower()}-{friday_close.day}"
    events.append(
        _EventSpec(
            hype_key,
            f"Hyperliquid (HYPE) above ___ on {fri}?",
            "Markets on the HYPE/USDC price at 12:00 PM ET on the date in the title.",
            ms(friday_close - timedelta(days=7)),
            ms(friday_close),
            ("crypto", "crypto-prices", "hyperliquid"),
        )
    )
    specs.append(
        _Spec(
            f"hyperliquid-above-{hype_strike}-on-{friday_close.strftime('%B').lower()}-{friday_close.day}",
            f"Will Hyperliquid (HYPE) be above ${hype_strike} on {fri}?",
            f'Resolves "Yes" if the Hyperliquid HYPE/USDC 1-minute candle at 12:00 PM ET on {fri} closes '
            f"above ${hype_strike}.",
            ("Yes", "No"),
            ms(friday_close - timedelta(days=7)),
            ms(friday_close - timedelta(days=7)),
            ms(friday_close),
            hype_key,
            "hyperliquid",
            _IMG.format("HYPE"),
            0.01,
        )
    )
    return specs, events


class _Book:
    """Renders the market/event universe at one instant."""

    def __init__(self, seed: int, now: int) -> None:
        self.seed = seed
        self.now = now
        a, ea = _recurring(seed, now)
        b, eb = _long_dated(seed, now)
        self.specs = a + b
        self.event_specs = {e.key: e for e in ea + eb}
        self.markets = [self._market(s) for s in self.specs]
        self.by_event: dict[str, list[dict[str, Any]]] = {}
        for s, m in zip(self.specs, self.markets):
            self.by_event.setdefault(s.event_key, []).append(m)
        self.events = [self._event(e, with_markets=True) for e in self.event_specs.values()]

    def _volume_micros(self, s: _Spec) -> int:
        span = max(1, s.end_ms - s.created_ms)
        elapsed = min(max(0, self.now - s.created_ms), span)
        full = int(5_000_000_000 + _u(self.seed, "vol", s.slug) * 200_000_000_000)
        return full * elapsed // span

    def _market(self, s: _Spec, *, nested_event: bool = True) -> dict[str, Any]:
        seed, now = self.seed, self.now
        ended = s.end_ms <= now
        closed = s.end_ms + _RESOLVE_DELAY_MS <= now
        if closed:
            yes_wins = _u(seed, "winner", s.slug) < 0.5
            p = Decimal(1) if yes_wins else Decimal(0)
        else:
            p = Decimal(50 + int(_u(seed, "px", s.slug, min(now, s.end_ms) // 1000) * 900)) / 1000
        prices = [_dec(p), _dec(Decimal(1) - p)]
        vol = self._volume_micros(s)
        liq = 0 if closed else int(1_000_000_000 + _u(seed, "liq", s.slug) * 50_000_000_000)
        vol_f = float(Decimal(vol) / 1_000_000)
        liq_f = float(Decimal(liq) / 1_000_000)
        tokens = [str(int.from_bytes(_h(seed, "tok", s.slug, i), "big")) for i in (0, 1)]
        created = s.created_ms - 60_000
        m: dict[str, Any] = {
            "id": _num_id(seed, "market", s.slug),
            "question": s.question,
            "conditionId": _hex(seed, "cond", s.slug),
            "slug": s.slug,
            "resolutionSource": "https://data.chain.link/streams",
            "endDate": _iso(s.end_ms),
            "liquidity": _usd(liq),
            "startDate": _iso(s.created_ms, micros=True),
            "image": s.image,
            "icon": s.image,
            "description": s.description,
            "outcomes": json.dumps(list(s.outcomes)),
            "outcomePrices": json.dumps(prices),
            "volume": _usd(vol),
            "active": True,
            "closed": closed,
            "marketMakerAddress": "",
            "createdAt": _iso(created, micros=True),
            "updatedAt": _iso(min(now, s.end_ms + 60_000), micros=True),
            "new": False,
            "featured": False,
            "archived": False,
            "restricted": True,
            "groupItemThreshold": "0",
            "questionID": _hex(seed, "qid", s.slug),
            "enableOrderBook": True,
            "orderPriceMinTickSize": s.tick,
            "orderMinSize": 5,
            "volumeNum": vol_f,
            "liquidityNum": liq_f,
            "endDateIso": _day(s.end_ms),
            "startDateIso": _day(s.created_ms),
            "hasReviewedDates": True,
            "volume24hr": vol_f,
            "volume1wk": vol_f,
            "volume1mo": vol_f,
            "volume1yr": vol_f,
            "clobTokenIds": json.dumps(tokens),
            "volume24hrClob": vol_f,
            "volume1wkClob": vol_f,
            "volume1moClob": vol_f,
            "volume1yrClob": vol_f,
            "volumeClob": vol_f,
            "liquidityClob": liq_f,
            "acceptingOrders": not ended,
            "negRisk": False,
        }
        if nested_event:
            m["events"] = [self._event(self.event_specs[s.event_key], with_markets=False)]
        m.update(
            {
                "ready": False,
                "funded": False,
                "acceptingOrdersTimestamp": _iso(s.created_ms),
                "cyom": False,
                "competitive": 0.99,
                "spread": 0.0 if closed else 0.01,
                "lastTradePrice": float(p),
                "bestBid": float(max(Decimal(0), p - Decimal("0.005"))),
                "bestAsk": float(min(Decimal(1), p + Decimal("0.005"))),
                "umaResolutionStatuses": json.dumps(["proposed"] if closed else []),
                "eventStartTime": _iso(s.window_start_ms),
                "feesEnabled": True,
                "feeType": "crypto_fees",
            }
        )
        if closed:
            m["closedTime"] = _pg(s.end_ms + _RESOLVE_DELAY_MS)
            m["umaResolutionStatus"] = "resolved"
        return m

    def _event(self, e: _EventSpec, *, with_markets: bool) -> dict[str, Any]:
        seed, now = self.seed, self.now
        closed = e.end_ms + _RESOLVE_DELAY_MS <= now
        markets = [self._market(s, nested_event=False) for s in self.specs if s.event_key == e.key]
        vol = sum(m["volumeNum"] for m in markets)
        liq = sum(m["liquidityNum"] for m in markets)
        ev: dict[str, Any] = {
            "id": _num_id(seed, "event", e.key),
            "ticker": e.key,
            "slug": e.key,
            "title": e.title,
            "description": e.description,
            "resolutionSource": "",
            "startDate": _iso(e.start_ms, micros=True),
            "creationDate": _iso(e.start_ms, micros=True),
            "endDate": _iso(e.end_ms),
            "image": markets[0]["image"] if markets else "",
            "icon": markets[0]["icon"] if markets else "",
            "active": True,
            "closed": closed,
            "archived": False,
            "new": False,
            "featured": False,
            "restricted": True,
            "liquidity": liq,
            "volume": vol,
            "openInterest": 0,
            "createdAt": _iso(e.start_ms - 60_000, micros=True),
            "updatedAt": _iso(min(now, e.end_ms + 60_000), micros=True),
            "competitive": 0.99,
            "volume24hr": vol,
            "volume1wk": vol,
            "volume1mo": vol,
            "volume1yr": vol,
            "enableOrderBook": True,
            "liquidityClob": liq,
            "negRisk": False,
            "commentCount": int(_u(seed, "comments", e.key) * 50),
        }
        if with_markets:
            ev["markets"] = markets
        if e.series is not None:
            sid, sslug, stitle, recurrence = e.series
            ev["series"] = [
                {
                    "id": sid,
                    "ticker": sslug,
                    "slug": sslug,
                    "title": stitle,
                    "seriesType": "single",
                    "recurrence": recurrence,
                    "image": "",
                    "icon": "",
                    "active": True,
                    "closed": False,
                    "archived": False,
                    "featured": False,
                    "restricted": True,
                    "createdAt": "2025-11-21T21:46:22.201627Z",
                    "updatedAt": _iso(now, micros=True),
                    "volume24hr": vol,
                    "volume": vol,
                    "liquidity": liq,
                    "commentCount": 0,
                    "requiresTranslation": False,
                }
            ]
        if with_markets:
            ev["tags"] = [
                {
                    **_TAGS[t],
                    "forceShow": False,
                    "createdAt": "2023-10-25T18:55:50.681Z",
                    "updatedAt": "2026-03-09T22:35:26.76623Z",
                    "requiresTranslation": False,
                }
                for t in e.tags
            ]
        ev.update(
            {
                "cyom": False,
                "showAllOutcomes": True,
                "showMarketImages": True,
                "enableNegRisk": False,
                "automaticallyActive": True,
                "startTime": _iso(
                    min(s.window_start_ms for s in self.specs if s.event_key == e.key)
                ),
                "negRiskAugmented": False,
                "pendingDeployment": False,
                "deploying": False,
                "requiresTranslation": False,
            }
        )
        if e.series is not None:
            ev["seriesSlug"] = e.series[1]
        return ev

    def tag_ids_of_market(self, m: dict[str, Any]) -> set[str]:
        spec = next(s for s in self.specs if s.slug == m["slug"])
        return {_TAGS[t]["id"] for t in self.event_specs[spec.event_key].tags}


class _BadQuery(Exception):
    pass


def _bool(q: Request, key: str) -> bool | None:
    raw = q.query_params.get(key)
    if raw is None:
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise _BadQuery(f"{key} must be a boolean")


def _int(q: Request, key: str, default: int) -> int:
    raw = q.query_params.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _BadQuery(f"{key} must be an integer") from None
    if value < 0:
        raise _BadQuery(f"{key} must be >= 0")
    return value


def _date_ms(q: Request, key: str) -> int | None:
    raw = q.query_params.get(key)
    if raw is None:
        return None
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        raise _BadQuery(f"{key} must be an ISO date") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


_SORT_KEYS = {
    "endDate": lambda x: x.get("endDate") or "",
    "startDate": lambda x: x.get("startDate") or "",
    "volume": lambda x: x.get("volumeNum", x.get("volume", 0)),
    "volumeNum": lambda x: x.get("volumeNum", 0),
    "liquidity": lambda x: x.get("liquidityNum", x.get("liquidity", 0)),
    "id": lambda x: int(x["id"]),
}


def _listing(
    q: Request, rows: list[dict[str, Any]], tag_ids: Callable[[dict[str, Any]], set[str]]
) -> list:
    for key in ("active", "closed", "archived"):
        want = _bool(q, key)
        if want is not None:
            rows = [r for r in rows if r.get(key) is want]
    slugs = q.query_params.getlist("slug")
    if slugs:
        rows = [r for r in rows if r.get("slug") in slugs]
    ids = q.query_params.getlist("id")
    if ids:
        rows = [r for r in rows if r["id"] in ids]
    tag_id = q.query_params.get("tag_id")
    if tag_id is not None:
        rows = [r for r in rows if tag_id in tag_ids(r)]
    lo, hi = _date_ms(q, "end_date_min"), _date_ms(q, "end_date_max")
    if lo is not None or hi is not None:

        def end(r: dict[str, Any]) -> int:
            return int(datetime.fromisoformat(r["endDate"]).timestamp() * 1000)

        rows = [r for r in rows if (lo is None or end(r) >= lo) and (hi is None or end(r) <= hi)]
    order = q.query_params.get("order")
    ascending = _bool(q, "ascending")
    rows = sorted(rows, key=_SORT_KEYS["id"])
    if order:
        for field in reversed(order.split(",")):
            if field not in _SORT_KEYS:
                raise _BadQuery(f"unsupported order field {field!r}")
            rows = sorted(rows, key=_SORT_KEYS[field], reverse=ascending is False)
    offset, limit = _int(q, "offset", 0), _int(q, "limit", 100)
    return rows[offset : offset + limit]


def _json(body: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    kind = "not found error" if status == 404 else "validation error"
    return _json({"type": kind, "error": message}, status)


def routes_for(seed: int, now_ms: Callable[[], int]) -> list[BaseRoute]:
    """Gamma's `/markets` and `/events` routes over a synthetic book at `now_ms()`."""

    def book() -> _Book:
        return _Book(seed, now_ms())

    async def markets(request: Request) -> Response:
        b = book()
        try:
            return _json(_listing(request, b.markets, b.tag_ids_of_market))
        except _BadQuery as e:
            return _error(422, str(e))

    async def market(request: Request) -> Response:
        mid = request.path_params["id"]
        found = next((m for m in book().markets if m["id"] == mid), None)
        return _json(found) if found is not None else _error(404, f"market {mid} not found")

    async def events(request: Request) -> Response:
        b = book()

        def tag_ids(ev: dict[str, Any]) -> set[str]:
            return {t["id"] for t in ev.get("tags", [])}

        try:
            return _json(_listing(request, b.events, tag_ids))
        except _BadQuery as e:
            return _error(422, str(e))

    async def event(request: Request) -> Response:
        eid = request.path_params["id"]
        found = next((e for e in book().events if e["id"] == eid), None)
        return _json(found) if found is not None else _error(404, f"event {eid} not found")

    async def event_by_slug(request: Request) -> Response:
        slug = request.path_params["slug"]
        found = next((e for e in book().events if e["slug"] == slug), None)
        return _json(found) if found is not None else _error(404, f"event {slug} not found")

    return [
        Route("/markets", markets, methods=["GET"]),
        Route("/markets/{id}", market, methods=["GET"]),
        Route("/events", events, methods=["GET"]),
        Route("/events/slug/{slug}", event_by_slug, methods=["GET"]),
        Route("/events/{id}", event, methods=["GET"]),
    ]
