"""The real clients against the simulator served by hypercorn on 127.0.0.1."""

import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect

from clash.market.hyperliquid import wire
from clash.market.hyperliquid.rest import HyperliquidRest
from clash.market.hyperliquid.wire import HlCandle
from clash.market.hyperliquid.ws import HyperliquidStream, Mids, Reconnected, StreamEvent
from clash.market.sim.app import create_sim_app
from clash.market.sim.hyperliquid import HyperliquidSim
from clash.market.sim.market import HOUR_MS, MINUTE_MS, SimMarket

T0 = 1_790_431_200_000


class Clock:
    def __init__(self, t: int) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


@asynccontextmanager
async def served(app: object) -> AsyncIterator[str]:
    """Serve `app` with hypercorn on a loopback port chosen by the OS; yields host:port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]
    config.graceful_timeout = 0.2
    config.accesslog = None
    config.errorlog = None
    stop = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(app, config, shutdown_trigger=stop.wait))
        try:
            yield f"127.0.0.1:{port}"
        finally:
            stop.set()


async def _next(events: object, want: Callable[[StreamEvent], bool]) -> StreamEvent:
    async for event in events:  # type: ignore[attr-defined]
        if want(event):
            return event
    raise AssertionError("stream ended")


@pytest.mark.anyio
async def test_rest_and_stream_over_loopback() -> None:
    clock = Clock(T0 + HOUR_MS + 30_000)
    app = create_sim_app(SimMarket(11, T0), clock, push_interval_s=0.02)
    sim: HyperliquidSim = app.state.hyperliquid
    async with served(app) as host:
        async with HyperliquidRest(f"http://{host}") as rest:
            assert wire.to_mids(await rest.all_mids())["BTC"] > 0

        stream = HyperliquidStream(
            f"ws://{host}/ws",
            ["BTC", "ETH"],
            now_ms=clock,
            ping_interval=0.1,
            backoff_base=0.01,
            backoff_max=0.05,
        )
        with anyio.fail_after(10):
            async with stream.events() as events:
                got: dict[str, StreamEvent] = {}
                while len(got) < 3:  # order between coins and mids is not fixed
                    event = await _next(events, lambda e: True)
                    got.setdefault(
                        event.coin if isinstance(event, HlCandle) else type(event).__name__, event
                    )
                first, mids = got["BTC"], got["Mids"]
                assert isinstance(first, HlCandle) and first.interval == "1m"
                assert first.open_ms == T0 + HOUR_MS
                assert isinstance(mids, Mids) and mids.mids["BTC"] == first.close
                assert set(got) == {"BTC", "ETH", "Mids"}

                while stream.stats.pongs == 0:  # keep-alive pings are answered
                    await anyio.sleep(0.02)

                clock.t += MINUTE_MS  # the minute closes: final candle, then the new one
                closed = await _next(events, lambda e: isinstance(e, HlCandle) and e.coin == "BTC")
                assert isinstance(closed, HlCandle) and closed.open_ms == first.open_ms
                opened = await _next(events, lambda e: isinstance(e, HlCandle) and e.coin == "BTC")
                assert isinstance(opened, HlCandle) and opened.open_ms == first.open_ms + MINUTE_MS

                assert sim.drop_connections() == 1
                gap = await _next(events, lambda e: isinstance(e, Reconnected))
                assert isinstance(gap, Reconnected)
                assert gap.gap_since_ms <= clock.t and gap.reconnected_ms == clock.t
                again = await _next(events, lambda e: isinstance(e, HlCandle) and e.coin == "BTC")
                assert isinstance(again, HlCandle) and again.open_ms == opened.open_ms
                assert stream.stats.reconnects == 1 and stream.stats.malformed == 0


@pytest.mark.anyio
async def test_ws_protocol_frames() -> None:
    clock = Clock(T0 + 5 * MINUTE_MS)
    app = create_sim_app(SimMarket(11, T0), clock, push_interval_s=60)
    async with served(app) as host:
        with anyio.fail_after(10):
            async with connect(f"ws://{host}/ws") as ws:
                await ws.send('{"method":"ping"}')
                assert json.loads(await ws.recv()) == {"channel": "pong"}
                await ws.send(
                    '{"subscription":{"type":"candle","coin":"HYPE","interval":"1d"},'
                    '"method":"subscribe"}'
                )
                ack = wire.decode(await ws.recv(), wire.AnyServerMessage)
                assert ack == wire.SubscriptionResponse(
                    wire.SubscriptionAck(
                        "subscribe", wire.CandleSubscription(coin="HYPE", interval="1d")
                    )
                )
                push = wire.decode(await ws.recv(), wire.AnyServerMessage)
                assert isinstance(push, wire.CandlePush) and isinstance(push.data, wire.Candle)
                assert (push.data.coin, push.data.interval) == ("HYPE", "1d")
                await ws.send("{not json")
                error = wire.decode(await ws.recv(), wire.AnyServerMessage)
                assert isinstance(error, wire.ErrorFrame)
                assert error.data.startswith("Error parsing JSON into valid websocket request")


@pytest.mark.anyio
async def test_stream_counts_and_skips_malformed_frames() -> None:
    stream = HyperliquidStream("ws://unused", ["BTC"], now_ms=lambda: 7)
    assert stream._events('{"channel":"candle","data":{"t":1}}') == []
    assert stream._events("garbage") == []
    assert stream._events('{"channel":"allMids","data":{"mids":{"BTC":"x"}}}') == []
    assert stream.stats.malformed == 3
    assert stream._events('{"channel":"error","data":"bad"}') == []
    assert stream.stats.server_errors == 1 and stream.stats.last_error == "bad"
    assert stream._events('{"channel":"allMids","data":{"mids":{"BTC":"2.5"}}}') == [
        Mids({"BTC": 2.5}, 7)
    ]


def test_stream_backoff_is_jittered_and_capped() -> None:
    stream = HyperliquidStream(
        "ws://unused", ["BTC"], now_ms=lambda: 0, backoff_base=1, backoff_max=8
    )
    delays = [stream.backoff(n) for n in range(1, 12) for _ in range(20)]
    assert all(0 <= d <= 8 for d in delays)
    assert max(stream.backoff(1) for _ in range(50)) <= 1
    assert len(set(delays)) > 100
    assert [type(s).__name__ for s in stream.subscriptions()] == [
        "CandleSubscription",
        "AllMidsSubscription",
    ]


@pytest.mark.anyio
async def test_silent_connection_is_presumed_dead_and_replaced() -> None:
    async def silent(websocket: WebSocket) -> None:
        await websocket.accept()
        subscribes.append(0)
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass  # swallows subscribes and pings alike

    subscribes: list[int] = []
    app = Starlette(routes=[WebSocketRoute("/ws", silent)])
    async with served(app) as host:
        stream = HyperliquidStream(
            f"ws://{host}/ws",
            ["BTC"],
            now_ms=lambda: 5,
            ping_interval=0.05,
            dead_after=0.2,
            backoff_base=0.01,
        )
        with anyio.fail_after(5):
            async with stream.events() as events:
                gap = await _next(events, lambda e: True)
        assert gap == Reconnected(gap_since_ms=5, reconnected_ms=5)
        assert stream.stats.connects == 2 and len(subscribes) == 2
