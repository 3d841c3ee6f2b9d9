"""Async client for Polymarket's Gamma API, plus the shared retrying GET used by market sources.

Error contract (see `clash.market.retry`): 429, 5xx and transport errors are retried and become
`SourceError` once attempts run out; any other non-2xx is a `SourceError` at once; a body that
does not match its wire type is a `DecodeError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import anyio
import httpx
import msgspec

from clash.market.retry import RetryPolicy, Sleep, raise_for_status, with_retries

from .wire import (
    DecodeError,
    Event,
    Market,
    SourceError,
    decode_event,
    decode_events,
    decode_market,
    decode_markets,
)

__all__ = [
    "SourceError",
    "DecodeError",
    "GAMMA_BASE_URL",
    "RetryPolicy",
    "get_json",
    "GammaClient",
    "PolymarketTarget",
    "ms_to_iso",
]

GAMMA_BASE_URL = "https://gamma-api.polymarket.com"

Params = Mapping[str, str | int | float | bool | Sequence[str]]


def _clean(params: Params | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in (params or {}).items():
        if isinstance(v, (list, tuple)):
            if v:
                out[k] = list(v)
        else:
            out[k] = v
    return out


async def get_json(
    http: httpx.AsyncClient,
    url: str,
    *,
    params: Params | None = None,
    policy: RetryPolicy = RetryPolicy(),
    source: str = "http",
    sleep: Sleep = anyio.sleep,
) -> bytes:
    """GET `url` and return the raw body of a 2xx answer, retrying per `policy`."""
    query = _clean(params)
    what = f"{source} GET {url}"

    async def once() -> bytes:
        resp = await http.get(url, params=query)
        raise_for_status(resp, what)
        return resp.content

    return await with_retries(once, policy, what=what, sleep=sleep)


def ms_to_iso(ms: int) -> str:
    """Epoch ms → the `YYYY-MM-DDTHH:MM:SSZ` form Gamma's date filters accept."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PolymarketTarget(msgspec.Struct, frozen=True):
    """An explicit market or event chosen in a data-stream block, by slug or by id."""

    kind: Literal["market", "event"]
    slug: str | None = None
    id: str | None = None

    def __post_init__(self) -> None:
        if (self.slug is None) == (self.id is None):
            raise ValueError("PolymarketTarget needs exactly one of slug or id")


def _listing_params(
    limit: int, offset: int, slugs: Iterable[str], ids: Iterable[str], **filters: Any
) -> dict[str, Any]:
    """The query of a `/markets` or `/events` listing: paging, slugs and ids, and the filters set."""
    params: dict[str, Any] = {
        "limit": limit,
        "offset": offset,
        "slug": list(slugs),
        "id": list(ids),
    }
    params.update((key, value) for key, value in filters.items() if value is not None)
    return params


class GammaClient:
    """Thin typed wrapper over the Gamma REST endpoints; owns its httpx client."""

    def __init__(
        self,
        base_url: str = GAMMA_BASE_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 10.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Sleep = anyio.sleep,
    ) -> None:
        """`sleep` waits out retry backoff (the actor clock's in the product)."""
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            transport=transport,
            timeout=timeout_s,
            headers={"accept": "application/json"},
        )
        self._retry = retry

    async def __aenter__(self) -> GammaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, params: Params | None = None) -> bytes:
        return await get_json(
            self._http, path, params=params, policy=self._retry, source="gamma", sleep=self._sleep
        )

    async def markets(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        active: bool | None = None,
        closed: bool | None = None,
        archived: bool | None = None,
        order: str | None = None,
        ascending: bool | None = None,
        slugs: Iterable[str] = (),
        ids: Iterable[str] = (),
        tag_id: str | None = None,
        end_date_min_ms: int | None = None,
        end_date_max_ms: int | None = None,
    ) -> list[Market]:
        params = _listing_params(
            limit,
            offset,
            slugs,
            ids,
            active=active,
            closed=closed,
            archived=archived,
            order=order,
            ascending=ascending,
            tag_id=tag_id,
        )
        if end_date_min_ms is not None:
            params["end_date_min"] = ms_to_iso(end_date_min_ms)
        if end_date_max_ms is not None:
            params["end_date_max"] = ms_to_iso(end_date_max_ms)
        return decode_markets(await self._get("/markets", params))

    async def all_markets(
        self, *, page_size: int = 100, max_pages: int = 20, **filters: Any
    ) -> list[Market]:
        """Pages with offset/limit until a short page (Gamma has no cursor)."""
        out: list[Market] = []
        for page in range(max_pages):
            batch = await self.markets(limit=page_size, offset=page * page_size, **filters)
            out.extend(batch)
            if len(batch) < page_size:
                break
        return out

    async def market(self, market_id: str) -> Market:
        return decode_market(await self._get(f"/markets/{market_id}"))

    async def events(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        active: bool | None = None,
        closed: bool | None = None,
        archived: bool | None = None,
        order: str | None = None,
        ascending: bool | None = None,
        slugs: Iterable[str] = (),
        ids: Iterable[str] = (),
        tag_id: str | None = None,
    ) -> list[Event]:
        params = _listing_params(
            limit,
            offset,
            slugs,
            ids,
            active=active,
            closed=closed,
            archived=archived,
            order=order,
            ascending=ascending,
            tag_id=tag_id,
        )
        return decode_events(await self._get("/events", params))

    async def event(self, event_id: str) -> Event:
        return decode_event(await self._get(f"/events/{event_id}"))

    async def event_by_slug(self, slug: str) -> Event:
        return decode_event(await self._get(f"/events/slug/{slug}"))

    async def discovery_window(
        self,
        now_ms: int,
        *,
        closed_within_ms: int = 86_400_000,
        page_size: int = 100,
        max_pages: int = 5,
    ) -> list[Market]:
        """Open markets ending after now (soonest first) plus markets closed in the recent window."""
        open_ = await self.all_markets(
            page_size=page_size,
            max_pages=max_pages,
            active=True,
            closed=False,
            order="endDate",
            ascending=True,
            end_date_min_ms=now_ms,
        )
        recent = await self.all_markets(
            page_size=page_size,
            max_pages=max_pages,
            closed=True,
            order="endDate",
            ascending=False,
            end_date_min_ms=now_ms - closed_within_ms,
        )
        seen: set[str] = set()
        out: list[Market] = []
        for m in (*open_, *recent):
            if m.id not in seen:
                seen.add(m.id)
                out.append(m)
        return out

    async def fetch_target(self, target: PolymarketTarget) -> list[Market]:
        """Markets named by an explicit target; an event target yields all its markets."""
        if target.kind == "market":
            if target.id is not None:
                return [await self.market(target.id)]
            return await self.markets(slugs=[target.slug or ""])
        if target.id is not None:
            return list((await self.event(target.id)).markets)
        events = await self.events(slugs=[target.slug or ""])
        return [m for e in events for m in e.markets]
