"""HyperliquidRest: against the simulator, retries, decode errors and the weight budget."""

import random

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clash.market.hyperliquid import wire
from clash.market.hyperliquid.rest import (
    HyperliquidRest,
    WeightBudget,
    request_weight,
    response_weight,
)
from clash.market.hyperliquid.wire import DecodeError, SourceError
from clash.market.sim.app import create_sim_app
from clash.market.sim.market import DAY_MS, HOUR_MS, SimMarket

T0 = 1_790_431_200_000
NOW = T0 + 2 * DAY_MS + 12_345


class FakeTime:
    """A clock plus a sleep that only moves it, so backoff and budget waits take no real time."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def _client(app: object, clock: FakeTime | None = None, **kw: object) -> HyperliquidRest:
    clock = clock or FakeTime()
    return HyperliquidRest(
        "http://hl.test",
        transport=httpx.ASGITransport(app=app),
        budget=WeightBudget(clock.now, clock.sleep),
        sleep=clock.sleep,
        rng=random.Random(1),
        **kw,
    )


def _scripted(responses: list[tuple[int, bytes]], seen: list[bytes]) -> Starlette:
    async def info(request: Request) -> Response:
        seen.append(await request.body())
        status, body = responses.pop(0)
        return Response(body, status_code=status, media_type="application/json")

    return Starlette(routes=[Route("/info", info, methods=["POST"])])


@pytest.mark.anyio
async def test_every_method_against_the_simulator() -> None:
    app = create_sim_app(SimMarket(5, T0), lambda: NOW)
    async with _client(app) as hl:
        meta = await hl.meta()
        assert len(meta.universe) >= 20 and meta.universe[0].name == "BTC"
        spot = await hl.spot_meta()
        assert "@107" in {p.name for p in spot.universe}
        ctxs = wire.to_asset_ctxs(await hl.meta_and_asset_ctxs())
        mids = wire.to_mids(await hl.all_mids())
        assert ctxs[0].mid_px == mids["BTC"]
        spot_meta, spot_ctxs = await hl.spot_meta_and_asset_ctxs()
        assert {c.coin for c in spot_ctxs} == {p.name for p in spot_meta.universe}
        bars = wire.to_bars(await hl.candle_snapshot("ETH", "1h", NOW - DAY_MS, NOW))
        assert len(bars) == 25 and bars[-1].open_ms <= NOW <= bars[-1].close_ms
        assert bars[-1].close == mids["ETH"]
        assert await hl.candle_snapshot("NOPE", "1m", NOW - HOUR_MS) == []
        predicted = wire.to_predicted_rates(await hl.predicted_fundings())
        assert {r.venue for r in predicted} == {"BinPerp", "HlPerp", "BybitPerp"}
        history = wire.to_funding_rates(await hl.funding_history("BTC", NOW - DAY_MS))
        assert len(history) == 24 and all(NOW - DAY_MS <= r.time_ms <= NOW for r in history)


@pytest.mark.anyio
async def test_429_then_200_is_retried_with_jittered_backoff() -> None:
    seen: list[bytes] = []
    app = _scripted([(429, b"busy"), (500, b"oops"), (200, b'{"BTC":"1.5"}')], seen)
    clock = FakeTime()
    async with _client(app, clock) as hl:
        assert await hl.all_mids() == {"BTC": "1.5"}
        assert (hl.stats.requests, hl.stats.retries, hl.stats.failures) == (3, 2, 0)
    assert seen == [b'{"type":"allMids"}'] * 3
    assert len(clock.sleeps) == 2 and all(0 <= s <= 1.0 for s in clock.sleeps)


@pytest.mark.anyio
async def test_retry_after_header_is_respected() -> None:
    async def info(request: Request) -> Response:
        if not calls:
            calls.append(1)
            return Response("slow down", status_code=429, headers={"Retry-After": "3"})
        return Response(b"{}", media_type="application/json")

    calls: list[int] = []
    clock = FakeTime()
    app = Starlette(routes=[Route("/info", info, methods=["POST"])])
    async with _client(app, clock) as hl:
        assert await hl.all_mids() == {}
    assert clock.sleeps == [3.0]


@pytest.mark.anyio
async def test_gives_up_with_source_error_after_bounded_attempts() -> None:
    seen: list[bytes] = []
    app = _scripted([(503, b"")] * 10, seen)
    async with _client(app, attempts=3) as hl:
        with pytest.raises(SourceError) as info:
            await hl.meta()
        assert hl.stats.failures == 1 and hl.stats.decode_errors == 0
    assert not isinstance(info.value, DecodeError)
    assert info.value.status == 503 and info.value.attempts == 3 and len(seen) == 3


@pytest.mark.anyio
async def test_transport_errors_are_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, content=b'{"ETH":"2000.0"}')

    clock = FakeTime()
    hl = HyperliquidRest(
        "http://hl.test",
        transport=httpx.MockTransport(handler),
        budget=WeightBudget(clock.now, clock.sleep),
        sleep=clock.sleep,
    )
    async with hl:
        assert await hl.all_mids() == {"ETH": "2000.0"}
    assert len(calls) == 3


@pytest.mark.anyio
async def test_client_error_is_not_retried() -> None:
    seen: list[bytes] = []
    app = _scripted([(422, b"Failed to deserialize"), (200, b"{}")], seen)
    async with _client(app) as hl:
        with pytest.raises(SourceError) as info:
            await hl.all_mids()
    assert info.value.status == 422 and len(seen) == 1


@pytest.mark.anyio
async def test_truncated_payload_is_a_decode_error_without_retry() -> None:
    seen: list[bytes] = []
    app = _scripted([(200, b'[{"coin":"BTC","fundingRate":"0.0001","prem'), (200, b"[]")], seen)
    async with _client(app) as hl:
        with pytest.raises(DecodeError):
            await hl.funding_history("BTC", 0)
        assert hl.stats.decode_errors == 1 and hl.stats.retries == 0
    assert len(seen) == 1


@pytest.mark.anyio
async def test_wrong_shape_is_a_decode_error() -> None:
    app = _scripted([(200, b'{"universe":[{"name":"BTC"}]}')], [])
    async with _client(app) as hl:
        with pytest.raises(DecodeError):
            await hl.meta()


@pytest.mark.anyio
async def test_request_bodies_match_hyperliquid() -> None:
    seen: list[bytes] = []
    app = _scripted([(200, b"[]"), (200, b"null"), (200, b"[]")], seen)
    async with _client(app) as hl:
        await hl.funding_history("BTC", 1681923833000)
        assert await hl.candle_snapshot("kPEPE", "1h", 1684702007000, 1684784807000) == []
        await hl.funding_history("BTC", 1, 2)
    assert seen == [
        b'{"type":"fundingHistory","coin":"BTC","startTime":1681923833000}',
        b'{"type":"candleSnapshot","req":{"coin":"kPEPE","interval":"1h",'
        b'"startTime":1684702007000,"endTime":1684784807000}}',
        b'{"type":"fundingHistory","coin":"BTC","startTime":1,"endTime":2}',
    ]


# ---------------------------------------------------------------- weight budget


def test_weights_follow_the_documented_table() -> None:
    assert request_weight("allMids") == 2
    assert request_weight("meta") == request_weight("candleSnapshot") == 20
    assert request_weight("userRole") == 60
    assert response_weight("candleSnapshot", 1440) == 24
    assert response_weight("fundingHistory", 500) == 25
    assert response_weight("candleSnapshot", 1) == 1
    assert response_weight("meta", 1000) == 0
    assert response_weight("fundingHistory", 0) == 0


@pytest.mark.anyio
async def test_budget_waits_exactly_for_the_refill() -> None:
    clock = FakeTime()
    budget = WeightBudget(clock.now, clock.sleep, capacity=100, per_minute=60)
    for _ in range(5):
        await budget.acquire(20)
    assert clock.sleeps == [] and budget.available == pytest.approx(0)
    await budget.acquire(20)
    assert clock.sleeps == [pytest.approx(20.0)]
    assert not budget.try_take(1)
    clock.t += 1
    assert budget.try_take(1)


@pytest.mark.anyio
async def test_budget_debt_from_large_responses_delays_the_next_request() -> None:
    clock = FakeTime()
    budget = WeightBudget(clock.now, clock.sleep)
    await budget.acquire(20)
    budget.charge(1200)
    assert budget.available == pytest.approx(-20)
    await budget.acquire(20)
    assert sum(clock.sleeps) == pytest.approx(2.0)  # 40 weight at 20 per second


def test_budget_refill_is_capped() -> None:
    WeightBudget(lambda: 1 / 0, FakeTime().sleep)  # reads no clock until first used
    clock = FakeTime()
    budget = WeightBudget(clock.now, clock.sleep, capacity=1200)
    clock.t += 3600
    assert budget.available == 1200
    assert budget.wait_time(5000) == 0  # never asks for more than capacity


@pytest.mark.anyio
async def test_client_spends_budget_per_request_and_per_item() -> None:
    clock = FakeTime()
    app = create_sim_app(SimMarket(5, T0), lambda: NOW)
    async with _client(app, clock) as hl:
        await hl.candle_snapshot("BTC", "1m", NOW - DAY_MS, NOW)
        assert hl.budget.available == pytest.approx(1200 - 20 - 25)  # 1441 candles
        await hl.all_mids()
        assert hl.budget.available == pytest.approx(1200 - 45 - 2)


@pytest.mark.anyio
async def test_simulator_rate_limit_answers_429_and_client_gives_up() -> None:
    app = create_sim_app(SimMarket(5, T0), lambda: NOW, weight_per_minute=60)
    async with _client(app, attempts=2) as hl:
        await hl.meta()
        await hl.meta()
        await hl.meta()
        with pytest.raises(SourceError) as info:
            await hl.meta()
    assert info.value.status == 429
