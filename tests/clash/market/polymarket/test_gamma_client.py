"""GammaClient against the Polymarket simulator (ASGI) and against scripted failures."""

import time

import httpx
import msgspec
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from clash.market.polymarket import (
    DecodeError,
    GammaClient,
    PolymarketTarget,
    RetryPolicy,
    SourceError,
    immediate_market,
    later_market,
    markets_for_asset,
    recently_closed,
    summarize,
)
from clash.market.polymarket.summary import discover, end_ms, window_start_ms
from clash.market.sim.polymarket import routes_for

NOW = 1_773_307_350_000  # 2026-03-12T09:22:30Z
FAST = RetryPolicy(attempts=3, base_s=0.0, max_s=0.0)


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def sim_client(seed: int = 7, clock: Clock | None = None) -> tuple[GammaClient, Clock]:
    clock = clock or Clock(NOW)
    app = Starlette(routes=[Mount("/polymarket", routes=routes_for(seed, clock))])
    client = GammaClient(
        "http://sim/polymarket", transport=httpx.ASGITransport(app=app), retry=FAST
    )
    return client, clock


@pytest.mark.anyio
async def test_sim_markets_decode_and_select():
    client, _ = sim_client()
    async with client:
        markets = await client.all_markets(page_size=5)
    assert len(markets) == 22 and len({m.id for m in markets}) == 22
    for m in markets:
        s = summarize(m)  # parses the JSON-in-JSON fields too
        assert len(s.outcomes) == 2 and sum(s.prices) == 1
    btc = markets_for_asset(markets, "BTC")
    imm, later = immediate_market(btc, NOW), later_market(btc, NOW)
    assert imm.slug == "btc-updown-5m-1773307200" and end_ms(imm) == 1_773_307_500_000
    assert later.slug == "btc-updown-5m-1773307500"
    assert window_start_ms(imm) <= NOW < end_ms(imm)
    closed = recently_closed(btc, NOW)
    assert [m.slug for m in closed] == [
        f"btc-updown-5m-{t}" for t in (1773306900, 1773306600, 1773306300)
    ]
    assert all(summarize(m).resolved_outcome in ("Up", "Down") for m in closed if m.closed)
    d = discover(markets, NOW)
    assert {m.slug.split("-")[0] for m in d.upcoming} == {"btc", "eth", "sol"}
    assert any("ethereum-reach" in m.slug for m in d.live)
    for sym in ("ETH", "SOL", "HYPE"):
        assert immediate_market(markets_for_asset(markets, sym), NOW) is not None


@pytest.mark.anyio
async def test_sim_rolls_forward_with_the_clock_and_is_deterministic():
    client, clock = sim_client()
    async with client:
        first = await client.markets(slugs=["btc-updown-5m-1773307200"])
        again = await client.markets(slugs=["btc-updown-5m-1773307200"])
        assert first == again
        clock.ms = NOW + 10 * 60_000
        markets = await client.all_markets()
    other, _ = sim_client(seed=8)
    async with other:
        other_first = await other.markets(slugs=["btc-updown-5m-1773307200"])
    assert summarize(other_first[0]).prices != summarize(first[0]).prices
    imm = immediate_market(markets_for_asset(markets, "BTC"), clock.ms)
    assert imm.slug == "btc-updown-5m-1773307800"
    old = next(m for m in markets if m.slug == "btc-updown-5m-1773307200")
    assert old.closed and summarize(old).resolved_outcome is not None


@pytest.mark.anyio
async def test_sim_filters_events_and_targets():
    client, _ = sim_client()
    async with client:
        open_ = await client.markets(closed=False, order="endDate", ascending=True, limit=3)
        assert [end_ms(m) for m in open_] == sorted(end_ms(m) for m in open_)
        assert all(not m.closed for m in open_)
        window = await client.discovery_window(NOW, closed_within_ms=3_600_000)
        assert immediate_market(window, NOW).slug == "btc-updown-5m-1773307200"
        events = await client.events(tag_id="39")  # Ethereum
        assert events and all(any(t.slug == "ethereum" for t in e.tags) for e in events)
        monthly = next(e for e in events if e.slug.startswith("what-price-will-ethereum-hit"))
        assert len(monthly.markets) == 2
        by_slug = await client.event_by_slug(monthly.slug)
        by_id = await client.event(monthly.id)
        assert by_slug == by_id == monthly
        via_target = await client.fetch_target(PolymarketTarget("event", slug=monthly.slug))
        assert [m.id for m in via_target] == [m.id for m in monthly.markets]
        assert await client.fetch_target(PolymarketTarget("event", id=monthly.id)) == via_target
        one = await client.fetch_target(PolymarketTarget("market", id=monthly.markets[0].id))
        assert one[0].slug == monthly.markets[0].slug
        assert (await client.fetch_target(PolymarketTarget("market", slug=one[0].slug)))[
            0
        ].id == one[0].id
        with pytest.raises(SourceError) as err:
            await client.market("1")
        assert err.value.status == 404 and not isinstance(err.value, DecodeError)


def scripted(*replies: httpx.Response) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(replies)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        return reply

    return httpx.MockTransport(handle), seen


BODY = msgspec.json.encode([{"id": "1", "question": "q", "outcomes": '["Yes", "No"]'}])


@pytest.mark.anyio
async def test_retries_429_then_succeeds():
    transport, seen = scripted(
        httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, content=BODY)
    )
    async with GammaClient("http://gamma", transport=transport, retry=FAST) as client:
        markets = await client.markets(active=True, closed=False, slugs=["a", "b"])
    assert [m.id for m in markets] == ["1"] and len(seen) == 2
    q = seen[0].url.params
    assert q["active"] == "true" and q["closed"] == "false" and q.get_list("slug") == ["a", "b"]


@pytest.mark.anyio
async def test_transport_error_then_success_and_retry_after_is_capped():
    transport, seen = scripted(
        httpx.ConnectError("refused"),
        httpx.Response(503, headers={"Retry-After": "30"}),
        httpx.Response(200, content=BODY),
    )
    policy = RetryPolicy(attempts=3, base_s=0.0, max_s=0.01)
    started = time.monotonic()
    async with GammaClient("http://gamma", transport=transport, retry=policy) as client:
        assert len(await client.markets()) == 1
    assert len(seen) == 3 and time.monotonic() - started < 1.0


@pytest.mark.anyio
async def test_persistent_5xx_becomes_source_error_after_bounded_attempts():
    transport, seen = scripted(httpx.Response(502))
    async with GammaClient("http://gamma", transport=transport, retry=FAST) as client:
        with pytest.raises(SourceError) as err:
            await client.markets()
    assert len(seen) == 3 and err.value.status == 502 and err.value.attempts == 3


@pytest.mark.anyio
async def test_4xx_is_not_retried():
    transport, seen = scripted(httpx.Response(422, json={"error": "bad"}))
    async with GammaClient("http://gamma", transport=transport, retry=FAST) as client:
        with pytest.raises(SourceError) as err:
            await client.events()
    assert len(seen) == 1 and err.value.status == 422


@pytest.mark.anyio
async def test_truncated_payload_is_decode_error_not_retried():
    transport, seen = scripted(httpx.Response(200, content=BODY[:-7]))
    async with GammaClient("http://gamma", transport=transport, retry=FAST) as client:
        with pytest.raises(DecodeError):
            await client.markets()
    assert len(seen) == 1
